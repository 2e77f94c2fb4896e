"""Logins through PAM: good, bad, unknown, hostile names, privileges."""

import os
import time
import unittest

from fixtures import simple
from harness import IS_ROOT, PAM_MATRIX, EnvTestCase, Raw, default_launcher


def pop3d_children_of(env):
    """PIDs of pop3d processes serving this env (inetd children, the daemon
    and its forked children)."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"pop3d") and env.conf.encode() in cmd:
            pids.append(int(pid))
    return pids


def proc_status(path):
    fields = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.split()
    return fields


def task_statuses(env):
    """/proc status of every thread of every pop3d serving env."""
    out = []
    for pid in pop3d_children_of(env):
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                out.append(proc_status(f"/proc/{pid}/task/{tid}/status"))
            except OSError:
                pass
    return out


class AuthTest(EnvTestCase):
    # A fixed delay here (no doubling): these tests compare answer times.
    config = {"login_fail_delay": "1", "login_fail_delay_max": "1"}

    def setUp(self):
        for u in ("alice", "bob", "carol"):
            self.env.write_mailbox(u, simple(2, u))

    def test_good_login(self):
        c = self.connect()
        self.assertEqual(c.login(), b"+OK maildrop has 2 messages (%d octets)" % len(
            b"".join(b"Subject: alice %d\r\nMessage-ID: <alice%d@x>\r\n\r\nbody of alice %d\r\n" % (i, i, i)
                     for i in (1, 2))))
        self.assertIn("login user=alice rip=127.0.0.1 msgs=2", self.env.log_text())

    def test_password_with_spaces(self):
        self.assertTrue(self.connect().login("carol").startswith(b"+OK"))

    def test_bad_password_and_unknown_user_look_the_same(self):
        timings, replies = [], []
        for user in ("alice", "nosuchuser", "alice", "nosuchuser"):
            c = self.connect()
            self.assertEqual(c.cmd(f"USER {user}"), b"+OK send PASS")
            start = time.monotonic()
            replies.append(c.cmd("PASS Wr0ngPassw0rd!"))
            timings.append(time.monotonic() - start)
        self.assertEqual(set(replies), {b"-ERR [AUTH] authentication failed"})
        for t in timings:
            self.assertGreaterEqual(t, 0.95)  # login_fail_delay = 1 for both
        self.assertLess(abs((timings[0] + timings[2]) - (timings[1] + timings[3])) / 2, 0.5)

    def test_passwords_never_reach_the_log(self):
        c = self.connect()
        c.cmd("USER alice")
        c.cmd("PASS Canary-Pw-9731")
        self.connect().login("bob")
        log = self.env.log_text()
        self.assertIn("login failed user=alice rip=127.0.0.1", log)
        self.assertNotIn("Canary-Pw-9731", log)
        self.assertNotIn("builder", log)

    def test_pass_after_failed_pass_needs_user(self):
        c = self.connect()
        c.cmd("USER alice")
        self.assertTrue(c.cmd("PASS wrong").startswith(b"-ERR [AUTH]"))
        self.assertEqual(c.cmd("PASS secret"), b"-ERR send USER first")
        self.assertTrue(c.login().startswith(b"+OK"))

    def test_too_many_failures_close_the_connection(self):
        c = self.connect()
        for _ in range(3):
            c.cmd("USER alice")
            self.assertTrue(c.cmd("PASS wrong").startswith(b"-ERR [AUTH]"))
        self.assertEqual(c.read_to_eof(), b"")

    def test_path_traversal_names_never_reach_pam_or_a_path(self):
        names = ["../../etc/passwd", "..", ".", "/etc/shadow", "alice/../bob", "-alice", "alice bob"]
        log_before = len(self.env.log_text())
        for name in names:
            c = self.connect()
            self.assertEqual(c.cmd(f"USER {name}"), b"-ERR [AUTH] invalid user name", name)
            self.assertEqual(c.cmd("PASS secret"), b"-ERR send USER first", name)
        c = self.connect()
        c.send(b"USER alice\x00bob\r\n")
        self.assertEqual(c.line(), b"-ERR invalid characters in command")
        self.assertEqual(c.cmd("PASS secret"), b"-ERR send USER first")
        self.assertNotIn("login failed", self.env.log_text()[log_before:])

    def test_client_data_cannot_forge_log_lines(self):
        c = self.connect()
        c.send(b"USER alice\r\rlogin user=root rip=1.2.3.4\r\n")
        c.line()
        c.send(b"USER ev\x1b[2Jil\r\nUSER " + "\u00e9vil".encode() + b"\r\nUSER x\\ny\r\nPASS z\r\n")
        for _ in range(4):
            c.line()
        log = self.env.log_text()
        self.assertNotIn("login user=root", log)
        for ch in log:
            self.assertTrue(ch == "\n" or 0x20 <= ord(ch) < 0x7f, repr(ch))
        self.assertIn("login failed user=x\\x5cny", log)

    def test_every_name_gets_the_same_user_reply(self):
        self.assertEqual(self.connect().cmd("USER alice"), self.connect().cmd("USER nosuchuser"))

    @unittest.skipUnless(IS_ROOT, "needs root: checks the real credentials of the session")
    def test_session_drops_root_for_good(self):
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK"))
        uid, mail_gid = str(self.env.uids["alice"]), str(self.env.mail_gid)
        # The session is the task whose file access is alice's (fsuid, the 4th Uid).
        sessions = [st for st in task_statuses(self.env) if st["Uid"][3] == uid]
        self.assertEqual(len(sessions), 1)  # inetd/fork: the process; threads: the session thread
        st = sessions[0]
        if self.env.launcher in ("threads", "activate-listen"):
            # uid 0 stays as real, effective and saved uid, so that alice
            # cannot signal or limit the thread; no capability is left.
            self.assertEqual(st["Uid"], ["0", "0", "0", uid])
            self.assertEqual(st["NoNewPrivs"], ["1"])
            self.assertEqual(st["CapInh"], ["0000000000000000"])
            # the listener thread stays root to accept and run PAM
            self.assertTrue(any(s["Uid"] == ["0"] * 4 and s["CapEff"] != ["0000000000000000"]
                                for s in task_statuses(self.env)))
        else:
            self.assertEqual(st["Uid"], [uid] * 4)
        self.assertEqual(st["Gid"], [uid, uid, mail_gid, uid])  # real, effective, saved=mail, fs
        self.assertEqual(st["Groups"], [uid])
        self.assertEqual(st["CapEff"], ["0000000000000000"])
        self.assertEqual(st["CapPrm"], ["0000000000000000"])
        c.cmd("QUIT")

    @unittest.skipIf(IS_ROOT, "as root the daemon can switch to any user")
    def test_without_root_only_our_own_user_is_served(self):
        self.env.write_mailbox("dave", simple(1), owner="alice")
        c = self.connect()
        self.assertEqual(c.login("dave"), b"-ERR [AUTH] authentication failed")  # as a wrong password
        self.assertIn("and pop3d does not run as root)", self.env.log_text())


@unittest.skipIf(IS_ROOT, "as root the real drop is tested (test_session_drops_root_for_good)")
@unittest.skipUnless(os.path.exists("/usr/lib/x86_64-linux-gnu/libuid_wrapper.so"), "libuid_wrapper not installed")
class EmulatedRootTest(EnvTestCase):
    """Without root, libuid_wrapper lets pop3d believe it is root, so the
    whole drop sequence (initgroups, setresgid, setresuid, the checks that
    root is gone) runs; the kernel still checks files as the real user.
    uid_wrapper does not emulate setfsuid, which the per-thread drop checks,
    so this runs for the process-wide drop only (inetd, fork)."""
    uid_wrapper = True

    @classmethod
    def setUpClass(cls):
        if (cls.launcher or default_launcher()) in ("threads", "activate-listen"):
            raise unittest.SkipTest("uid_wrapper cannot emulate the per-thread drop (setfsuid)")
        super().setUpClass()

    def test_login_after_dropping_emulated_root(self):
        self.env.write_mailbox("alice", simple(2))
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK maildrop has 2 messages"))
        c.cmd("DELE 1")
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        self.assertNotIn(b"Subject: msg 1\n", self.env.read_mailbox("alice"))

    def test_owner_check_after_the_drop(self):
        # dave's uid is not the file's owner: the fstat check refuses it.
        self.env.write_mailbox("dave", simple(1), owner="alice")
        self.assertTrue(self.connect().login("dave").startswith(b"-ERR [SYS/PERM]"))
        self.assertRegex(self.env.log_text(), r"dave is owned by uid \d+, not uid \d+")


def service_passdb(env, service):
    """pam_matrix checks the service column: a passdb for another service name."""
    path = os.path.join(env.dir, f"passdb-{service}")
    with open(os.path.join(env.dir, "passdb")) as src, open(path, "w") as dst:
        dst.write(src.read().replace(":pop3\n", f":{service}\n"))
    return path


def pam_exec_service(env, service, script_name, script, exec_options=""):
    """Switches env to a PAM service that runs a shell script through
    pam_exec before pam_matrix; skips the test class without pam_exec."""
    exec_ = pam_module("pam_exec.so")
    if not exec_:
        raise unittest.SkipTest("pam_exec.so not found")
    path = os.path.join(env.dir, script_name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + script)
    os.chmod(path, 0o755)
    passdb = service_passdb(env, service)
    with open(os.path.join(env.pam_dir, service), "w") as f:
        f.write(f"auth optional {exec_} {exec_options}{path}\n"
                f"auth required {PAM_MATRIX} passdb={passdb}\n"
                f"account required {PAM_MATRIX} passdb={passdb}\n")
    env.write_config(pam_service=service)


def pam_module(name):
    for d in ("/usr/lib/x86_64-linux-gnu/security", "/lib/x86_64-linux-gnu/security",
              "/usr/lib/x86_64-linux-gnu/pam_wrapper"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return None


class PamStackTest(EnvTestCase):
    """A chatty PAM stack: modules that send info and error messages (the
    conversation gets them, possibly with resp == NULL) and one that records
    the PAM items pop3d set."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        chatty, exec_ = pam_module("pam_chatty.so"), pam_module("pam_exec.so")
        if not chatty or not exec_:
            raise unittest.SkipTest("pam_chatty.so or pam_exec.so not found")
        cls.record = os.path.join(cls.env.dir, "pam-items")
        script = os.path.join(cls.env.dir, "record-items")
        with open(script, "w") as f:
            f.write(f'#!/bin/sh\necho "user=$PAM_USER rhost=$PAM_RHOST type=$PAM_TYPE authtok=${{PAM_AUTHTOK:-}}" '
                    f'>> {cls.record}\necho "a line for the conversation"\n')
        os.chmod(script, 0o755)
        passdb = service_passdb(cls.env, "pop3-chatty")
        with open(os.path.join(cls.env.pam_dir, "pop3-chatty"), "w") as f:
            f.write(f"auth optional {chatty} info error num_lines=3\n"
                    f"auth optional {exec_} stdout {script}\n"
                    f"auth required {PAM_MATRIX} passdb={passdb}\n"
                    f"account required {PAM_MATRIX} passdb={passdb}\n")
        cls.env.write_config(pam_service="pop3-chatty")

    def test_info_and_error_messages_are_tolerated_and_items_are_set(self):
        self.env.write_mailbox("alice", simple(1))
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK"))
        with open(self.record) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines, ["user=alice rhost=127.0.0.1 type=auth authtok="])


class PamMappedNameTest(EnvTestCase):
    """A PAM module may change the user name: pop3d serves the name PAM
    settled on (PAM_USER), after checking it like any other name."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        set_items, permit = pam_module("pam_set_items.so"), pam_module("pam_permit.so")
        if not set_items or not permit:
            raise unittest.SkipTest("pam_set_items.so or pam_permit.so not found")
        passdb = service_passdb(cls.env, "pop3-map")
        with open(os.path.join(cls.env.pam_dir, "pop3-map"), "w") as f:
            f.write(f"auth required {PAM_MATRIX} passdb={passdb}\nauth required {set_items}\n"
                    f"account required {permit}\n")
        cls.env.write_config(pam_service="pop3-map")

    def restart_with_pam_user(self, name):
        self.env.stop()
        self.env.extra_env = {"PAM_USER": name}
        self.env.start()

    def test_the_mapped_name_is_served(self):
        self.env.write_mailbox("alice", simple(1, "alice"))
        self.env.write_mailbox("bob", simple(2, "bob"))
        self.restart_with_pam_user("bob")
        c = self.connect()
        self.assertTrue(c.login("alice").startswith(b"+OK maildrop has 2 messages"))
        self.assertIn("login user=bob", self.env.log_text())

    def test_a_mapped_name_that_fails_the_check_is_refused(self):
        self.restart_with_pam_user("../alice")
        c = self.connect()
        self.assertEqual(c.login("alice"), b"-ERR [AUTH] authentication failed")
        self.assertIn("PAM returned an invalid user name '../alice'", self.env.log_text())


BIGSTACK = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "build", "tests", "pam_bigstack.so")


class DeepStackModuleTest(EnvTestCase):
    """A PAM module that puts 512 KiB on the stack (Debian's pam_cap.so puts
    256 KiB there): session threads must have room for it."""

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(BIGSTACK):
            raise unittest.SkipTest("build/tests/pam_bigstack.so not built (make check builds it)")
        super().setUpClass()
        passdb = service_passdb(cls.env, "pop3-bigstack")
        with open(os.path.join(cls.env.pam_dir, "pop3-bigstack"), "w") as f:
            f.write(f"auth optional {BIGSTACK}\nauth required {PAM_MATRIX} passdb={passdb}\n"
                    f"account required {PAM_MATRIX} passdb={passdb}\n")
        cls.env.write_config(pam_service="pop3-bigstack")

    def test_logins_through_a_deep_stack_module(self):
        self.env.write_mailbox("alice", simple(1))
        for _ in range(3):
            c = self.connect()
            self.assertTrue(c.login().startswith(b"+OK"))
            c.cmd("QUIT")
        self.assertTrue(self.connect().greeting.startswith(b"+OK"))  # still serving


class AccountPhaseTest(EnvTestCase):
    """pam_acct_mgmt is called: a good password on a refused account fails."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        deny = pam_module("pam_deny.so")
        if not deny:
            raise unittest.SkipTest("pam_deny.so not found")
        passdb = service_passdb(cls.env, "pop3-locked")
        with open(os.path.join(cls.env.pam_dir, "pop3-locked"), "w") as f:
            f.write(f"auth required {PAM_MATRIX} passdb={passdb}\naccount required {deny}\n")
        cls.env.write_config(pam_service="pop3-locked")

    def test_locked_account_is_refused_like_a_bad_password(self):
        self.env.write_mailbox("alice", simple(1))
        c = self.connect()
        self.assertEqual(c.login(), b"-ERR [AUTH] authentication failed")
        # It was the account phase that refused: authentication itself passed.
        self.assertIn("login failed user=alice rip=127.0.0.1 (PAM: Authentication failure)",
                      self.env.log_text())


if __name__ == "__main__":
    unittest.main()
