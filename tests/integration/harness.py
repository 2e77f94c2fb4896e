"""Test environment for integration tests: a private spool, PAM through
pam_wrapper + pam_matrix (or pam_confdir), fake users through nss_wrapper,
and the real pop3d -i started per connection by tcpserver.

Nothing here touches /etc/pam.d, real users or /var/mail. Works as root (the
daemon really drops to the test users' uids) and as an ordinary user (every
test user maps to our own uid)."""

import fcntl
import glob
import grp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_TESTS = os.path.join(ROOT, "build", "tests")  # test-only libraries (make check builds them)
sys.path.insert(0, os.path.join(ROOT, "tests"))  # shared helpers (mail_clients, free_ports)
from free_ports import free_port, greets, stop_server, wait_for_server  # noqa: E402,F401 (the tests import free_port from here)
POP3D = os.environ.get("POP3D_BINARY", os.path.join(ROOT, "src", "pop3d"))
PAM_MATRIX = "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_matrix.so"
IS_ROOT = os.geteuid() == 0

USERS = {  # name: (password, uid offset as root)
    "alice": ("secret", 5001),
    "bob": ("builder", 5002),
    "carol": ("a b c", 5003),
    "dave": ("dave-pw", 5004),
}


# make tsan / make asan: the daemon is instrumented; figures about memory,
# CPU or the binary's own hardening mean nothing then.
SANITIZED = any(k.endswith("SAN_OPTIONS") for k in os.environ)


def wait_for(predicate, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def proc_status_kib(pid, field):
    """A KiB figure of /proc/PID/status: VmRSS (now), VmHWM (peak)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def have(program):
    return shutil.which(program) is not None


def temp_dir(test, prefix, ignore_errors=False):
    """A fresh directory, removed with all it holds when `test` ends: the
    integration tests' one temp-dir fixture (Env makes its own)."""
    path = tempfile.mkdtemp(prefix=prefix)
    test.addCleanup(shutil.rmtree, path, ignore_errors=ignore_errors)
    return path


def clean_stale_pam_wrapper_dirs():
    """pam_wrapper leaves /tmp/pam.X behind when a process exits abnormally."""
    for name in os.listdir("/tmp"):
        if not (name.startswith("pam.") and len(name) == 5):
            continue
        path = os.path.join("/tmp", name)
        try:
            with open(os.path.join(path, "pid")) as f:
                pid = int(f.read().strip() or 0)
            os.kill(pid, 0)
        except (OSError, ValueError):
            shutil.rmtree(path, ignore_errors=True)


class Env:
    """One private mail system: spool, PAM, users, config, log."""

    def __init__(self, pam_mode=None, config=None, uid_wrapper=False, base_dir=None):
        pam_mode = pam_mode or os.environ.get("POP3D_PAM_MODE", "wrapper")
        self.dir = tempfile.mkdtemp(prefix="pop3d-it-", dir=base_dir)
        os.chmod(self.dir, 0o755)
        self.spool = os.path.join(self.dir, "spool")
        self.log = os.path.join(self.dir, "pop3d.log")
        self.conf = os.path.join(self.dir, "pop3d.conf")
        self.pam_dir = os.path.join(self.dir, "pam.d")
        self.pam_mode = pam_mode
        self.uid_wrapper = uid_wrapper  # pretend to be root (libuid_wrapper) when we are not
        self.extra_env = {}  # more environment for the daemon (restart with start())
        self.extra_preload = []  # more LD_PRELOAD libraries for the daemon
        self.host = "127.0.0.1"  # where the daemon listens (threads and fork)
        self.netns = None  # a network namespace to run the daemon in (threads and fork; root)
        self.mail_gid = grp.getgrnam("mail").gr_gid if IS_ROOT else os.getegid()
        self.uids = {}
        for name, (_, root_uid) in USERS.items():
            if IS_ROOT:
                self.uids[name] = root_uid
            else:  # only our own uid can be served without root; dave stands for "someone else"
                self.uids[name] = os.geteuid() + 1 if name == "dave" else os.geteuid()
        os.mkdir(self.spool)
        if IS_ROOT:
            os.chown(self.spool, 0, self.mail_gid)
        os.chmod(self.spool, 0o2775)
        os.mkdir(self.pam_dir)
        with open(os.path.join(self.dir, "passdb"), "w") as f:
            f.write("".join(f"{n}:{pw}:pop3\n" for n, (pw, _) in USERS.items()))
        with open(os.path.join(self.pam_dir, "pop3"), "w") as f:
            passdb = os.path.join(self.dir, "passdb")
            f.write(f"auth required {PAM_MATRIX} passdb={passdb}\n")
            f.write(f"account required {PAM_MATRIX} passdb={passdb}\n")
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
            for n in USERS:
                home = os.path.join(self.dir, "home", n)
                f.write(f"{n}:x:{self.uids[n]}:{self.uids[n]}:{n}:{home}:/bin/sh\n")
        with open(os.path.join(self.dir, "group"), "w") as f:
            f.write("root:x:0:\n")
            f.write(f"mail:x:{self.mail_gid}:\n")
            for n in USERS:
                if self.uids[n] != self.mail_gid:
                    f.write(f"{n}:x:{self.uids[n]}:\n")
        self.run_dir = os.path.join(self.dir, "run")
        os.mkdir(self.run_dir, 0o700)
        self.settings = {
            "mailbox": os.path.join(self.spool, "%u"),
            "log_file": self.log,
            "login_fail_delay": "0",
            "auth_fail_budget": "0",  # tests that want it set it
            "lock_timeout": "1",
            "session_lock_dir": self.run_dir,
            "runtime_dir": self.run_dir,
            "index_cache_dir": os.path.join(self.dir, "cache"),
        }
        if pam_mode == "confdir":
            self.settings["pam_confdir"] = self.pam_dir
        # Extra settings for every test, e.g. bigger stacks under TSan:
        # POP3D_TEST_CONFIG="thread_stack_size=8m other=value"
        for kv in os.environ.get("POP3D_TEST_CONFIG", "").split():
            key, _, value = kv.partition("=")
            self.settings[key] = value
        self.settings.update(config or {})
        self.write_config()
        self.server = None
        self.port = None

    # ---- configuration and files ----
    def write_config(self, **changes):
        """Writes the config; a running daemon is restarted to read it (an
        inetd-style launch reads it at every connection anyway)."""
        self.settings.update({k: str(v) for k, v in changes.items()})
        with open(self.conf, "w") as f:
            f.write("# written by the integration harness\n")
            for k, v in self.settings.items():
                f.write(f"{k} = {v}\n")
        if getattr(self, "server", None) and self.launcher in ("threads", "fork", "activate-listen"):
            self.stop()
            self.start()

    def environment(self):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        preload = ["libnss_wrapper.so"]
        if self.pam_mode == "wrapper":
            preload.insert(0, "libpam_wrapper.so")
            env.update(PAM_WRAPPER="1", PAM_WRAPPER_SERVICE_DIR=self.pam_dir)
        if self.uid_wrapper:
            preload.append("libuid_wrapper.so")
            env.update(UID_WRAPPER="1", UID_WRAPPER_ROOT="1")
        # Sanitizer settings reach the daemon (make tsan).
        env.update({k: v for k, v in os.environ.items()
                    if k.endswith("SAN_OPTIONS") or k == "NSS_WRAPPER_DISABLE_DEEPBIND"})
        env.update(self.extra_env)
        env.update(LD_PRELOAD=":".join(preload + self.extra_preload),
                   NSS_WRAPPER_PASSWD=os.path.join(self.dir, "passwd"),
                   NSS_WRAPPER_GROUP=os.path.join(self.dir, "group"))
        return env

    def mailbox(self, user):
        return os.path.join(self.spool, user)

    def write_mailbox(self, user, data, owner=None, mode=0o660):
        path = self.mailbox(user)
        if os.path.lexists(path):
            os.unlink(path)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        if IS_ROOT:
            os.chown(path, self.uids[owner or user], self.mail_gid)
        return path

    def read_mailbox(self, user):
        with open(self.mailbox(user), "rb") as f:
            return f.read()

    def wait_sessions_ended(self, timeout=5.0):
        """Waits until no session holds a maildrop (their session locks are
        free): a connection a test closed ends on the server a moment later,
        and the next test's login would meet [IN-USE]."""
        deadline = time.monotonic() + timeout
        for path in glob.glob(os.path.join(self.run_dir, "*.session")):
            try:
                fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                while True:
                    try:
                        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # conflicts with pop3d's OFD lock
                        fcntl.lockf(fd, fcntl.LOCK_UN)
                        break
                    except OSError:
                        if time.monotonic() > deadline:
                            break
                        time.sleep(0.02)
            finally:
                os.close(fd)

    def log_text(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # ---- launching ----
    def wrapper_script(self):
        """sh script that sets the wrapper environment and execs pop3d with
        its arguments. exec keeps the pid (systemd's LISTEN_PID)."""
        path = os.path.join(self.dir, "run-pop3d")
        exports = "".join(f"export {k}='{v}'\n" for k, v in self.environment().items())
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + exports + f'exec \'{POP3D}\' "$@"\n')
        os.chmod(path, 0o755)
        return path

    def inetd_script(self, extra_args=()):
        """pop3d -i with fd 2 on the socket, as inetd does: any stray stderr
        output would corrupt the protocol and fail the byte-exact tests."""
        path = os.path.join(self.dir, "run-pop3d-i")
        args = " ".join(f"'{a}'" for a in extra_args)
        with open(path, "w") as f:
            f.write(f"#!/bin/sh\nexec '{self.wrapper_script()}' -i -c '{self.conf}' {args} 2>&1\n")
        os.chmod(path, 0o755)
        return path

    # Launchers: inetd style (one pop3d -i per connection), the standalone
    # daemon in both process models, and systemd socket activation both ways.
    LAUNCHERS = ("tcpserver", "socat", "systemd-socket-activate", "threads", "fork", "activate-listen",
                 "activate-accept")

    def start(self, launcher=None, extra_args=(), fdname=None, probe=None):
        """Starts the server; without a launcher, the one used last time.
        probe(port) -> bool says the server answers (default: a greeting).
        A launcher that exits at once (its port was taken after all, say
        as a client's source port) is started again on another port."""
        launcher = launcher or getattr(self, "launcher", "tcpserver")
        self.launcher = launcher
        for _ in range(3):
            if self.start_once(launcher, extra_args, fdname, probe):
                return
            self.server.wait()
            self.server = None
        raise RuntimeError(f"{launcher} exited at once three times (last port {self.port})")

    def launch_command(self, launcher, extra_args, fdname):
        """The command line of one launcher and whether its stderr is kept."""
        if launcher == "tcpserver":
            return ["tcpserver", "-q", "-R", "-H", "-l", "localhost", "127.0.0.1", str(self.port),
                    self.inetd_script(extra_args)], False
        if launcher == "socat":
            return ["socat", f"TCP-LISTEN:{self.port},bind=127.0.0.1,fork,reuseaddr",
                    f"EXEC:{self.inetd_script(extra_args)},nofork"], False
        if launcher == "systemd-socket-activate":
            return ["systemd-socket-activate", "-l", f"127.0.0.1:{self.port}", "-a", "--inetd",
                    self.inetd_script(extra_args)], False
        if launcher in ("threads", "fork"):
            netns = ["ip", "netns", "exec", self.netns] if self.netns else []
            return [*netns, self.wrapper_script(), "-f", "-c", self.conf, "-l", f"{self.host}:{self.port}",
                    "-o", f"process_model={launcher}", *extra_args], True
        if launcher == "activate-listen":
            return ["systemd-socket-activate", "-l", f"127.0.0.1:{self.port}",
                    *([f"--fdname={fdname}"] if fdname else []), self.wrapper_script(), "-f", "-c", self.conf,
                    *extra_args], True
        if launcher == "activate-accept":
            return ["systemd-socket-activate", "-l", f"127.0.0.1:{self.port}", "-a",
                    *([f"--fdname={fdname}"] if fdname else []), self.wrapper_script(), "-c", self.conf,
                    *extra_args], False
        raise ValueError(launcher)

    def start_once(self, launcher, extra_args, fdname, probe):
        """False when the launcher exited before it answered."""
        self.port = free_port()
        cmd, keep_stderr = self.launch_command(launcher, extra_args, fdname)
        stderr = open(os.path.join(self.dir, "daemon.stderr"), "ab") if keep_stderr else subprocess.DEVNULL
        self.server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        if keep_stderr:
            stderr.close()

        def ready():
            if probe:
                try:
                    return probe(self.port)
                except OSError:
                    return False
            return greets(self.port, self.host, (b"+OK", b"-ERR"))  # a greeting: the whole chain works

        state = wait_for_server(ready, self.server, 10)
        if state == "timeout":
            raise RuntimeError(f"{launcher} did not start on port {self.port}")
        return state == "ready"

    def daemon_pid(self):
        """The standalone daemon's pid (threads, fork, activate-listen)."""
        return self.server.pid

    def stop(self):
        if self.server:
            stop_server(self.server, 5)
            self.server = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        clean_stale_pam_wrapper_dirs()


class Raw:
    """A byte-exact POP3 client over a plain socket."""

    def __init__(self, port, timeout=10, source=None, host="127.0.0.1"):
        # source: another loopback address (127.0.0.2) to look like a second client host
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.buf = b""
        self.greeting = self.line()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; pending {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()

    def multiline_raw(self):
        """Raw bytes of a multi-line body up to and including CRLF.CRLF."""
        while True:
            end = self.buf.find(b"\r\n.\r\n")
            if self.buf.startswith(b".\r\n"):
                body, self.buf = b".\r\n", self.buf[3:]
                return body
            if end >= 0:
                body, self.buf = self.buf[:end + 5], self.buf[end + 5:]
                return body
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("connection closed inside a multi-line response")
            self.buf += chunk

    def multiline(self, text):
        status = self.cmd(text)
        if not status.startswith(b"+OK"):
            return status, None
        return status, self.multiline_raw()

    def login(self, user="alice", password=None):
        password = USERS[user][0] if password is None else password
        assert self.cmd(f"USER {user}").startswith(b"+OK")
        return self.cmd(f"PASS {password}")

    def read_to_eof(self):
        data = self.buf
        self.buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
        return data

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def unstuff(body):
    """Wire body (CRLF.CRLF included) to the message octets a client stores."""
    assert body.endswith(b".\r\n")
    body = body[:-3]
    lines = body.split(b"\r\n")
    out = [l[1:] if l.startswith(b".") else l for l in lines]
    return b"\r\n".join(out)


def mbox_message(sender, date, headers, body, newline=b"\n"):
    """One mbox entry with its From_ line and separator blank line."""
    nl = newline
    text = f"From {sender} {date}".encode() + b"\n"
    for h in headers:
        text += (h if isinstance(h, bytes) else h.encode()) + nl
    text += nl + body
    if not body.endswith(b"\n"):
        text += nl
    return text + b"\n"


def default_launcher():
    """The launcher for classes that do not ask for one: the test runner runs
    the protocol suites once per launch mode with POP3D_LAUNCHER set."""
    return os.environ.get("POP3D_LAUNCHER", "tcpserver")


LAUNCHER_TOOLS = {"tcpserver": "tcpserver", "socat": "socat", "systemd-socket-activate": "systemd-socket-activate",
                  "activate-listen": "systemd-socket-activate", "activate-accept": "systemd-socket-activate"}


class EnvTestCase(unittest.TestCase):
    """A test class with one Env and one running server shared by its tests.
    PAM goes through pam_wrapper unless POP3D_PAM_MODE=confdir (make tsan:
    pam_wrapper cannot run under a sanitizer)."""
    pam_mode = None
    launcher = None  # None: DEFAULT_LAUNCHER
    config = None
    uid_wrapper = False
    base_dir = None  # e.g. /dev/shm for timing tests that must not measure the disk

    @classmethod
    def setUpClass(cls):
        launcher = cls.launcher or default_launcher()
        tool = LAUNCHER_TOOLS.get(launcher)
        if tool and not have(tool):
            raise unittest.SkipTest(f"{tool} not installed")
        pam_mode = cls.pam_mode or os.environ.get("POP3D_PAM_MODE", "wrapper")
        cls.env = Env(pam_mode=pam_mode, config=cls.config, uid_wrapper=cls.uid_wrapper, base_dir=cls.base_dir)
        cls.env.start(launcher)

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def setUp(self):
        super().setUp()
        self.addCleanup(self.env.wait_sessions_ended)  # runs after the connections' cleanups

    def connect(self, source=None):
        c = Raw(self.env.port, source=source)
        self.addCleanup(c.close)
        return c
