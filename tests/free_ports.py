"""Loopback ports for test servers, safe when several test processes run at
once (make check runs a root pass and a nobody pass side by side), the
wait for a server started on one to answer, and its stop (the test harness
and bench/run_bench.py both stop their servers here).

bind(0) alone is not enough: between handing out a port and the server
binding it, another process may be handed the same port, and then one test
talks to the other's server. So each port is also reserved with a lock on
a file of its own, which the other processes respect; a reservation lapses
after RESERVED more ports, when the server has long since bound it."""

import collections
import fcntl
import os
import signal
import socket
import subprocess
import tempfile
import time

RESERVED = 64
_DIR = os.path.join(tempfile.gettempdir(), "pop3d-test-ports")
_held = collections.deque()  # lock file fds, oldest first


def _lock_dir():
    os.makedirs(_DIR, exist_ok=True)
    try:
        os.chmod(_DIR, 0o1777)  # root and nobody share it
    except PermissionError:
        pass  # created by the other user, who set the mode
    return _DIR


def _open_lock(path):
    # O_CREAT only when the file is missing: with fs.protected_regular, an
    # O_CREAT open of another user's file in a sticky directory fails even
    # for root.
    while True:
        try:
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            pass
        try:
            return os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except FileExistsError:
            pass


def free_port():
    directory = _lock_dir()
    for _ in range(1000):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        fd = _open_lock(os.path.join(directory, str(port)))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # another process holds it: not ours to use
            continue
        _held.append(fd)
        if len(_held) > RESERVED:
            os.close(_held.popleft())
        return port
    raise RuntimeError("no free loopback port")


def greets(port, host="127.0.0.1", accept=(b"+OK",)):
    """Whether the server on port sends a greeting that starts with one of accept."""
    try:
        with socket.create_connection((host, port), timeout=1) as s:
            s.settimeout(5)
            return s.recv(100).startswith(accept)
    except OSError:
        return False


def wait_for_server(ready, proc, seconds):
    """Polls ready() until it holds ("ready"), the launcher proc exits
    ("exited") or the time is up ("timeout")."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return "exited"
        if ready():
            return "ready"
        time.sleep(0.05)
    return "timeout"


def stop_server(proc, seconds):
    """SIGTERM to the process group of a server started with
    start_new_session, SIGKILL after `seconds`, and reap it. Only while the
    launcher is not reaped does its pid still name our process group: once
    reaped (a test waited for it), the pid may already belong to another
    test's server (pid_max can be 32768), and killpg would stop that one."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
