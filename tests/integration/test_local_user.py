"""A local user with a shell and a POP3 login attacks the server's tasks.

Linux checks kill(), tgkill(), prlimit(), setpriority() and
sched_setscheduler() against the target task's own ids, thread by thread.
A user may reach a task whose real or saved uid (or, for the scheduler
calls, effective uid) is theirs. In the threaded daemon that would be the
whole daemon: one stopped thread stops the process, one limit applies to
every thread. So no task of a threaded daemon may ever carry a user's uid
there; in the process models a user reaches only their own session.

Runs under every launch mode (tests/run_tests.py: PROTOCOL_SUITES)."""

import json
import os
import signal
import subprocess
import sys
import unittest

from fixtures import simple
from harness import IS_ROOT, POP3D, EnvTestCase

# The user's side, run as alice (uid, gid, no supplementary groups): every
# attempt on every task it is given, one outcome each ("ok" or the errno
# name). Prints {"uid": ..., "results": {"PID/TID": {attempt: outcome}}}.
ATTACKER = r"""
import ctypes, errno, json, os, resource, signal, sys

libc = ctypes.CDLL(None, use_errno=True)
NUMBERS = {"x86_64": {"tgkill": 234, "ioprio_set": 251, "ptrace": 101},
           "aarch64": {"tgkill": 131, "ioprio_set": 30, "ptrace": 117}}.get(os.uname().machine, {})
PTRACE_SEIZE, PTRACE_DETACH = 0x4206, 17
IOPRIO_WHO_PROCESS, IOPRIO_IDLE = 1, 3 << 13


def syscall(name, *args):
    if name not in NUMBERS:
        raise OSError(errno.ENOSYS, f"{name}: number unknown here")
    if libc.syscall(NUMBERS[name], *[ctypes.c_long(a) for a in args]) < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def seize(tid):
    syscall("ptrace", PTRACE_SEIZE, tid, 0, 0)
    syscall("ptrace", PTRACE_DETACH, tid, 0, 0)


def outcome(attempt):
    try:
        attempt()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


results = {}
for pid, tid in json.loads(sys.argv[1]):
    r = {
        "prlimit nofile 3": outcome(lambda: resource.prlimit(tid, resource.RLIMIT_NOFILE, (3, 3))),
        "setpriority 19": outcome(lambda: os.setpriority(os.PRIO_PROCESS, tid, 19)),
        "SCHED_IDLE": outcome(lambda: os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))),
        "sched_setaffinity": outcome(lambda: os.sched_setaffinity(tid, {0})),
        "ioprio_set idle": outcome(lambda: syscall("ioprio_set", IOPRIO_WHO_PROCESS, tid, IOPRIO_IDLE)),
        "ptrace seize": outcome(lambda: seize(tid)),
    }
    for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGKILL):
        r[f"tgkill {sig.name}"] = outcome(lambda: syscall("tgkill", pid, tid, sig))
        r[f"kill {sig.name}"] = outcome(lambda: os.kill(tid, sig))
    results[f"{pid}/{tid}"] = r
print(json.dumps({"uid": os.getuid(), "euid": os.geteuid(), "groups": os.getgroups(), "results": results}))
"""


# sys.executable may live under /root (pyenv), where alice cannot run it.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def parent_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def descendants(root):
    """root and every process below it."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                children.setdefault(parent_of(int(entry)), []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass  # gone meanwhile
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def is_pop3d(pid):
    try:
        return os.path.samefile(os.readlink(f"/proc/{pid}/exe"), POP3D)
    except OSError:
        return False


def status_uids(pid, tid):
    """The Uid line of /proc/PID/task/TID/status: [real, effective, saved, fs]."""
    with open(f"/proc/{pid}/task/{tid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(v) for v in line.split()[1:]]
    raise OSError(f"no Uid line for {pid}/{tid}")


def server_tasks(env):
    """{(pid, tid): uids} of every thread of every pop3d process this env's
    launcher runs: the daemon (threads, fork, activate-listen), its forked
    sessions, the pop3d -i processes (inetd style, Accept=yes)."""
    tasks = {}
    for pid in descendants(env.server.pid):
        if not is_pop3d(pid):
            continue
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                tasks[(pid, int(tid))] = status_uids(pid, tid)
        except OSError:
            pass  # ended meanwhile
    return tasks


@unittest.skipUnless(IS_ROOT, "needs root: the daemon serves other users only as root")
class LocalUserCannotReachTheServerTest(EnvTestCase):
    def setUp(self):
        super().setUp()
        for user in ("alice", "bob", "carol"):
            self.env.write_mailbox(user, simple(2, user))

    def attack_as(self, user, tasks):
        """Runs ATTACKER as user; afterwards (as root) continues every task
        in case one was stopped, so a failing run does not hang."""
        uid = self.env.uids[user]
        try:
            out = subprocess.run([PYTHON, "-c", ATTACKER, json.dumps(tasks)], user=uid, group=uid,
                                 extra_groups=[], cwd="/", env={"PATH": "/usr/bin:/bin"}, capture_output=True,
                                 text=True, timeout=60)
        finally:
            for pid, _ in tasks:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
        self.assertEqual(out.returncode, 0, out.stderr)
        report = json.loads(out.stdout)
        self.assertEqual((report["uid"], report["euid"], report["groups"]), (uid, uid, []))
        return report["results"]

    def test_a_users_shell_reaches_no_other_session_and_no_daemon(self):
        bob = self.connect()
        self.assertTrue(bob.login("bob").startswith(b"+OK"))
        alice = self.connect()
        self.assertTrue(alice.login("alice").startswith(b"+OK"))

        tasks = server_tasks(self.env)
        uid = self.env.uids["alice"]
        # alice's session is among the targets: her process, or her thread (fsuid).
        self.assertTrue(any(uids[3] == uid for uids in tasks.values()), tasks)
        # Processes whose real uid is alice's: her session in the process
        # models, which she may end; none in the threaded daemon.
        own = {pid for (pid, tid), uids in tasks.items() if pid == tid and uids[0] == uid}
        results = self.attack_as("alice", sorted(tasks))

        threaded = self.env.launcher in ("threads", "activate-listen")
        if threaded:
            self.assertEqual(own, set())
        else:
            self.assertEqual(len(own), 1, tasks)  # her own session process, which she may end
            # The control: from alice's shell the attempts do work where the kernel allows them.
            own_pid = next(iter(own))
            self.assertEqual(results[f"{own_pid}/{own_pid}"]["tgkill SIGSTOP"], "ok")
        reached = {task: {k: v for k, v in r.items() if v != "EPERM"}
                   for task, r in results.items() if int(task.split("/")[0]) not in own}
        # What a user can do to the server: nothing, and it goes on serving.
        self.assertEqual(({t: r for t, r in reached.items() if r}, self.still_served(bob)), ({}, None))
        if threaded:  # and it is still the daemon that was attacked
            self.assertTrue(set(server_tasks(self.env)) & set(tasks))

    def still_served(self, bob):
        """None when bob's open session and a new login (carol) both work,
        else what went wrong."""
        try:
            self.assertEqual(bob.cmd("STAT"), b"+OK 2 %d" % self.stat_octets("bob"))
            status, body = bob.multiline("RETR 1")
            self.assertTrue(status.startswith(b"+OK"))
            self.assertIn(b"body of bob 1", body)
            self.assertTrue(bob.cmd("QUIT").startswith(b"+OK"))
            carol = self.connect()
            self.assertTrue(carol.greeting.startswith(b"+OK"))
            self.assertTrue(carol.login("carol").startswith(b"+OK maildrop has 2 messages"))
            self.assertTrue(carol.cmd("QUIT").startswith(b"+OK"))
        except (AssertionError, OSError, EOFError) as e:
            return f"not served: {e!r}"
        return None

    @staticmethod
    def stat_octets(user):
        return len(b"".join(b"Subject: %s %d\r\nMessage-ID: <%s%d@x>\r\n\r\nbody of %s %d\r\n"
                            % (user.encode(), i, user.encode(), i, user.encode(), i) for i in (1, 2)))


class LocalUserWithoutMailGroupTest(LocalUserCannotReachTheServerTest):
    """A spool the mail group does not grant (a sticky 1777 /var/mail): no
    group is kept, so all of a session's gids are the user's own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        os.chmod(cls.env.spool, 0o1777)


if __name__ == "__main__":
    unittest.main()
