"""Two pop3d instances serving one spool, as two hosts sharing it over NFS
would: one threaded, one forking, with session_lock_dir on the shared
storage and dotlock_check_pid off (a dotlock's pid may be the other
host's). Clients of both log in, retrieve, delete and quit while procmail
delivers; no message may be lost, doubled or damaged, and a maildrop open
through one instance is [IN-USE] through the other. As root, where the
kernel allows it, each instance runs in its own network namespace behind a
veth pair, so the clients cross a real network path."""

import os
import subprocess
import unittest

from delivery_workload import DeliveryWorkload
from fixtures import simple
from harness import IS_ROOT, Env, Raw, have


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


class NetworkNamespaces:
    """Two namespaces, each with a veth pair to this one: 10.231.N.1 here,
    10.231.N.2 there (N from our pid, so concurrent runs do not collide)."""

    def __init__(self):
        self.names, self.addresses = [], []
        base = os.getpid() % 120
        try:
            for i in range(2):
                n = base * 2 + i + 1
                name, outer, inner = f"p3d{os.getpid()}{i}", f"p3o{os.getpid()}{i}", f"p3i{os.getpid()}{i}"
                steps = [
                    ["ip", "netns", "add", name],
                    ["ip", "link", "add", outer, "type", "veth", "peer", "name", inner],
                    ["ip", "link", "set", inner, "netns", name],
                    ["ip", "addr", "add", f"10.231.{n}.1/24", "dev", outer],
                    ["ip", "link", "set", outer, "up"],
                    ["ip", "netns", "exec", name, "ip", "addr", "add", f"10.231.{n}.2/24", "dev", inner],
                    ["ip", "netns", "exec", name, "ip", "link", "set", inner, "up"],
                    ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
                ]
                self.names.append(name)
                for step in steps:
                    r = run(*step)
                    if r.returncode != 0:
                        raise OSError(f"{' '.join(step)}: {r.stderr.strip()}")
                self.addresses.append(f"10.231.{n}.2")
        except OSError:
            self.close()
            raise

    def close(self):
        for name in self.names:
            run("ip", "netns", "del", name)  # takes the veth pair with it
        self.names = []


class SharedSpoolBase:
    netns = False

    @classmethod
    def setUpClass(cls):
        if not have("procmail"):
            raise unittest.SkipTest("procmail not installed")
        cls.namespaces = None
        pam_mode = os.environ.get("POP3D_PAM_MODE", "wrapper")
        cls.a = Env(pam_mode=pam_mode, config={"dotlock_check_pid": "no", "lock_timeout": "10"})
        cls.b = None
        try:
            shared_locks = os.path.join(cls.a.dir, "shared-sessions")
            os.mkdir(shared_locks, 0o700)
            cls.b = Env(pam_mode=pam_mode, config={"dotlock_check_pid": "no", "lock_timeout": "10",
                                                   "mailbox": os.path.join(cls.a.spool, "%u")})
            for env in (cls.a, cls.b):
                env.write_config(session_lock_dir=shared_locks)
            if cls.netns:
                try:
                    cls.namespaces = NetworkNamespaces()
                except OSError as e:
                    raise unittest.SkipTest(f"no network namespaces here: {e}") from e
                for env, ns, address in zip((cls.a, cls.b), cls.namespaces.names, cls.namespaces.addresses):
                    env.netns, env.host = ns, address
            cls.a.start("threads")
            cls.b.start("fork")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for env in (cls.a, cls.b):
            if env is not None:
                env.close()
        if cls.namespaces is not None:
            cls.namespaces.close()

    def connect_to(self, env):
        return lambda: Raw(env.port, timeout=30, host=env.host)

    def test_a_maildrop_open_on_one_is_in_use_on_the_other(self):
        self.a.write_mailbox("alice", simple(2))
        first = self.connect_to(self.a)()
        self.addCleanup(first.close)
        self.assertTrue(first.login().startswith(b"+OK"))
        second = self.connect_to(self.b)()
        self.addCleanup(second.close)
        self.assertTrue(second.login().startswith(b"-ERR [IN-USE]"))
        first.cmd("DELE 1")
        self.assertTrue(first.cmd("QUIT").startswith(b"+OK"))
        third = self.connect_to(self.b)()
        self.addCleanup(third.close)
        self.assertTrue(third.login().startswith(b"+OK"))
        self.assertTrue(third.cmd("STAT").startswith(b"+OK 1 "))
        third.cmd("QUIT")

    def test_both_serve_and_delete_while_procmail_delivers(self):
        self.a.write_mailbox("alice", b"")
        work = DeliveryWorkload(self.a.mailbox("alice"), self.a.dir)
        work.run(4, 25, {"a": self.connect_to(self.a), "b": self.connect_to(self.b)})
        remaining = work.check_every_message_once_and_whole(self, 4, 25, self.connect_to(self.b))
        self.assertGreater(work.sessions.get("a", 0), 0, "instance a served no session")
        self.assertGreater(work.sessions.get("b", 0), 0, "instance b served no session")
        where = f"namespaces {', '.join(self.namespaces.addresses)}" if self.namespaces else "loopback"
        print(f"\n  100 deliveries, two instances ({where}): {work.sessions} sessions deleted "
              f"{len(work.deleted)}, {len(remaining)} left, all whole", flush=True)


class SharedSpoolTest(SharedSpoolBase, unittest.TestCase):
    pass


@unittest.skipUnless(IS_ROOT and have("ip"), "network namespaces need root and ip (iproute2)")
class SharedSpoolAcrossNetnsTest(SharedSpoolBase, unittest.TestCase):
    netns = True
