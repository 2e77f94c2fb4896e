"""fail2ban with the shipped contrib/fail2ban jail and filter: a real
fail2ban-server (its own configuration directory built from /etc/fail2ban's
base files, its own socket and pid file, fail2ban's dummy ban action writing
to a file) against real pop3d login failures, until it bans the address.

- the jail as shipped reads the journal: a private systemd-journald in a
  mount namespace made to look like a default Debian 12 (journald, no
  rsyslog: /dev/log is the journal's, /var/log holds no mail.log), pop3d
  logging to syslog inside it (root, python3-systemd); the last failure
  reaches journald only after its pop3d process has exited, as under load;
- the override the jail's comment documents for file-based hosts, copied
  from that comment: /var/log/mail.log written in syslog's file format
  (root), and pop3d's own log_file (any user).

fail2ban ignores the host's own addresses (ignoreself, ignoreip): the test
configuration, never the shipped jail, turns that off so that the loopback
client can be banned."""

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import unittest

from harness import IS_ROOT, ROOT, Env, Raw, default_launcher, have, temp_dir, wait_for

CONTRIB = os.path.join(ROOT, "contrib", "fail2ban")
SHIPPED_JAIL = os.path.join(CONTRIB, "jail.d", "pop3d.conf")
SHIPPED_FILTER = os.path.join(CONTRIB, "filter.d", "pop3d.conf")
ETC = "/etc/fail2ban"
JOURNALD = "/lib/systemd/systemd-journald"
ATTACKER = "127.0.0.2"  # fails maxretry times: banned
BYSTANDER = "127.0.0.3"  # fails fewer times: not banned
FORGED = "127.0.0.4"  # named only in lines a local user forged: never banned


def fail2ban_missing():
    """Why fail2ban cannot run here, or None."""
    if not have("fail2ban-server") or not have("fail2ban-client"):
        return "fail2ban is not installed (apt-get install fail2ban)"
    needed = ["fail2ban.conf", "jail.conf", "filter.d/common.conf", "action.d/dummy.conf"]
    missing = [f for f in needed if not os.path.exists(os.path.join(ETC, f))]
    return f"fail2ban's base files are missing: {missing}" if missing else None


def fail2ban_python():
    """The interpreter fail2ban-server runs under (its #! line)."""
    with open(shutil.which("fail2ban-server")) as f:
        line = f.readline()
    return line[2:].split()[0] if line.startswith("#!") else "python3"


def journal_missing():
    """Why the journal variants cannot run here, or None."""
    if not IS_ROOT:
        return "a private journald needs a mount namespace (root)"
    for tool in ("unshare", "nsenter", "journalctl", "logger"):
        if not have(tool):
            return f"{tool} is not installed"
    if not os.access(JOURNALD, os.X_OK):
        return f"{JOURNALD} is not installed (systemd)"
    if not os.path.exists("/etc/machine-id"):
        return "journald needs /etc/machine-id"
    return None


def python_systemd_missing():
    r = subprocess.run([fail2ban_python(), "-c", "import systemd.journal"], capture_output=True)
    return None if r.returncode == 0 else "python3-systemd is not installed (apt-get install python3-systemd)"


def documented_override(logpath=None):
    """The jail.d/pop3d.local the shipped jail's comment tells file-based
    hosts to write: its indented, commented-out lines, uncommented."""
    with open(SHIPPED_JAIL) as f:
        lines = [l[len("#   "):] for l in f if l.startswith("#   ")]
    if logpath:
        lines = [f"logpath = {logpath}\n" if l.startswith("logpath") else l for l in lines]
    return "".join(lines)


class PrivateJournal:
    """A mount namespace held by its own systemd-journald, made to look like a
    default Debian 12: /dev/log leads to the journal, /run (the journal's
    sockets and files) is private, /var/log is empty (no rsyslog, no
    mail.log).
    Programs join it with prefix(); the host's /dev, /run and /var/log are
    left alone (the mounts live and die with the namespace)."""

    def __init__(self, work):
        self.work = work
        self.proc = None
        self.followers = []

    def start(self):
        real_dev = os.path.join(self.work, "dev.real")
        os.mkdir(real_dev)
        script = os.path.join(self.work, "namespace.sh")
        with open(script, "w") as f:
            f.write(f"""set -e
# /dev: a tmpfs with links to the real nodes, plus /dev/log as on Debian.
mount --rbind /dev '{real_dev}'
mount -t tmpfs -o mode=0755,nosuid tmpfs /dev
for e in '{real_dev}'/*; do ln -s "$e" /dev/; done
ln -s /run/systemd/journal/dev-log /dev/log
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=0755 tmpfs /var/log
mkdir -p /run/systemd/journald.conf.d /run/log
printf '%s\\n' '[Journal]' Storage=volatile ReadKMsg=no ForwardToSyslog=no ForwardToKMsg=no ForwardToConsole=no \\
    ForwardToWall=no >/run/systemd/journald.conf.d/test.conf
SYSTEMD_LOG_TARGET=console exec {JOURNALD}
""")
        self.log = os.path.join(self.work, "journald.out")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", script],
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        socket_path = f"/proc/{self.proc.pid}/root/run/systemd/journal/dev-log"
        if not wait_for(lambda: os.path.exists(socket_path) or self.proc.poll() is not None, 10):
            raise RuntimeError("journald did not start: " + self.output())
        if self.proc.poll() is not None:
            raise RuntimeError("journald exited: " + self.output())

    def prefix(self):
        return ["nsenter", "-t", str(self.proc.pid), "-m", "--"]

    def output(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def follow_mail_log(self):
        """Stands in for rsyslog's `mail.* /var/log/mail.log`: the journal's
        facility-mail lines in syslog's traditional file format. Returns
        once a line logged now has reached the file."""
        sh = "exec journalctl -f -n 0 -q -o short SYSLOG_FACILITY=2 >>/var/log/mail.log"
        self.followers.append(subprocess.Popen(self.prefix() + ["sh", "-c", sh], start_new_session=True))
        mail_log = f"/proc/{self.proc.pid}/root/var/log/mail.log"

        def marked():
            subprocess.run(self.prefix() + ["logger", "-p", "mail.info", "-t", "test", "following"], check=True)
            return wait_for(lambda: os.path.exists(mail_log) and "following" in open(mail_log).read(), 0.5)
        if not wait_for(marked, 10, 0):
            raise RuntimeError("journalctl -f wrote nothing to /var/log/mail.log")

    @contextlib.contextmanager
    def frozen(self):
        """journald stopped: what is logged meanwhile waits in its socket."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.proc.pid, signal.SIGCONT)

    def text(self):
        r = subprocess.run(self.prefix() + ["journalctl", "-q", "--no-pager", "-o", "short"],
                           capture_output=True, text=True)
        return r.stdout + r.stderr

    def stop(self):
        for p in self.followers + [self.proc]:
            if p and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()


class Fail2ban:
    """fail2ban-server in the foreground with a configuration directory of
    fail2ban's own base files plus the shipped jail and filter."""

    def __init__(self, work, jail=SHIPPED_JAIL, local=None, prefix=()):
        self.conf = os.path.join(work, "fail2ban")
        self.socket = os.path.join(work, "f2b.sock")
        self.log = os.path.join(work, "fail2ban.log")
        self.bans = os.path.join(work, "bans")
        self.prefix = list(prefix)
        self.proc = None
        self.write_config(jail, local)

    def write_config(self, jail, local):
        for sub in ("filter.d", "action.d", "jail.d"):
            os.makedirs(os.path.join(self.conf, sub))
        base = ["fail2ban.conf", "jail.conf", "filter.d/common.conf", "action.d/dummy.conf"]
        base += [os.path.relpath(p, ETC) for p in glob.glob(os.path.join(ETC, "paths-*.conf"))]
        for name in base:
            shutil.copy(os.path.join(ETC, name), os.path.join(self.conf, name))
        shutil.copy(jail, os.path.join(self.conf, "jail.d", "pop3d.conf"))
        shutil.copy(SHIPPED_FILTER, os.path.join(self.conf, "filter.d", "pop3d.conf"))
        self.write("fail2ban.local", f"[Definition]\ndbfile = :memory:\nsocket = {self.socket}\n")
        # The test's own choices, as an admin's jail.local would make them:
        # the dummy action records bans, and the loopback client is not exempt.
        self.write("jail.local", "[DEFAULT]\nbanaction = dummy\nignoreself = false\nignoreip =\n")
        self.write("action.d/dummy.local", f"[Init]\ntarget = {self.bans}\n")
        if local is not None:
            self.write("jail.d/pop3d.local", local)

    def write(self, name, text):
        with open(os.path.join(self.conf, name), "w") as f:
            f.write(text)

    def client(self, *args):
        return subprocess.run(["fail2ban-client", "-c", self.conf, "-s", self.socket, *args],
                              capture_output=True, text=True, timeout=30)

    def start(self):
        """Starts the server; the pop3d jail runs when this returns, or the
        reason it does not is in the failed assertion's message."""
        pidfile = os.path.join(os.path.dirname(self.conf), "f2b.pid")
        cmd = self.prefix + ["fail2ban-server", "-f", "-x", "-c", self.conf, "-s", self.socket, "-p", pidfile,
                             "--logtarget", self.log, "--loglevel", "INFO", "start"]
        out = open(self.log + ".stderr", "wb")
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        wait_for(lambda: self.proc.poll() is not None or self.client("status", "pop3d").returncode == 0, 30, 0.2)

    def running(self):
        return self.proc.poll() is None and self.client("status", "pop3d").returncode == 0

    def banned(self):
        try:
            with open(self.bans) as f:
                return [l[1:].strip() for l in f if l.startswith("+")]
        except FileNotFoundError:
            return []

    def output(self):
        text = ""
        for path in (self.log, self.log + ".stderr"):
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    text += f.read()
        return text

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class NamespacedEnv(Env):
    """The harness's Env with the server started inside a mount namespace."""
    prefix = ()

    def launch_command(self, launcher, extra_args, fdname):
        cmd, keep_stderr = super().launch_command(launcher, extra_args, fdname)
        return list(self.prefix) + cmd, keep_stderr


class Fail2banCase(unittest.TestCase):
    """One pop3d, one fail2ban-server and, when asked, one private journal
    per test."""

    def setUp(self):
        why = fail2ban_missing()
        if why:
            self.skipTest(why)
        self.work = temp_dir(self, "pop3d-f2b-", ignore_errors=True)
        os.chmod(self.work, 0o755)
        self.journal = None

    def start_journal(self):
        self.journal = PrivateJournal(self.work)
        self.addCleanup(self.journal.stop)  # runs last: pop3d and fail2ban live in its namespace
        self.journal.start()

    def start_pop3d(self, config=None):
        self.env = NamespacedEnv(config=config)
        if self.journal:
            self.env.prefix = self.journal.prefix()
        self.addCleanup(self.env.close)
        self.env.start(default_launcher())

    def start_fail2ban(self, **kwargs):
        prefix = self.journal.prefix() if self.journal else ()
        self.f2b = Fail2ban(self.work, prefix=prefix, **kwargs)
        self.addCleanup(self.f2b.stop)
        self.f2b.start()
        self.assertTrue(self.f2b.running(), "fail2ban-server did not start the pop3d jail:\n" + self.diagnostics())

    def fail_logins(self, source, times):
        for _ in range(times):
            with Raw(self.env.port, source=source) as c:
                self.assertTrue(c.cmd("USER alice").startswith(b"+OK"))
                self.assertEqual(c.cmd("PASS wrong"), b"-ERR [AUTH] authentication failed")

    def diagnostics(self):
        text = "--- fail2ban:\n" + self.f2b.output()
        if self.journal:
            text += "--- journal:\n" + self.journal.text() + "--- journald:\n" + self.journal.output()
        elif getattr(self, "env", None):
            text += "--- pop3d log:\n" + self.env.log_text()
        return text

    def assert_bans_attacker_only(self, last_failure=None):
        """The shipped maxretry (10) failures from ATTACKER get it banned;
        BYSTANDER's two failures before them do not. last_failure() makes
        the tenth one when given."""
        self.fail_logins(BYSTANDER, 2)
        self.fail_logins(ATTACKER, 9)
        (last_failure or (lambda: self.fail_logins(ATTACKER, 1)))()
        wait_for(lambda: ATTACKER in self.f2b.banned(), 30, 0.2)
        self.assertEqual(self.f2b.banned(), [ATTACKER], self.diagnostics())
        status = self.f2b.client("status", "pop3d").stdout
        self.assertIn(f"Banned IP list:\t{ATTACKER}", status, status)


class JournalJailTest(Fail2banCase):
    """The jail as shipped, on a default Debian 12: pop3d logs to syslog,
    which is the journal; there is no /var/log/mail.log."""

    def test_shipped_jail_bans_from_the_journal(self):
        why = journal_missing() or python_systemd_missing()
        if why:
            self.skipTest(why)
        self.start_journal()
        self.start_pop3d(config={"log_file": ""})
        self.start_fail2ban()
        self.assert_bans_attacker_only(last_failure=self.failure_read_after_exit)

    def test_a_local_users_forged_lines_ban_nobody(self):
        """Any local user can log as pop3d (logger -t pop3d); the jail counts
        only root's entries, so forged failures for another address ban
        nothing while pop3d's own still ban the attacker."""
        why = journal_missing() or python_systemd_missing()
        if why:
            self.skipTest(why)
        if os.geteuid() != 0:
            self.skipTest("needs root (a private journald)")
        self.start_journal()
        self.start_pop3d(config={"log_file": ""})
        self.start_fail2ban()
        forged = f"login failed user=x rip={FORGED} (PAM: Authentication failure)"
        for _ in range(12):
            subprocess.run(self.journal.prefix() + ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                                    "logger", "-t", "pop3d", "-p", "mail.notice", forged], check=True)
        self.assertTrue(wait_for(lambda: self.journal.text().count(FORGED) == 12, 10, 0.2), self.diagnostics())
        self.assert_bans_attacker_only()

    def failure_read_after_exit(self):
        """A failure that journald reads only once its pop3d has exited (an
        inetd or fork pop3d whose client hangs up, journald behind under
        load): then it cannot fill in _COMM or _SYSTEMD_UNIT from /proc, and
        only the identifier pop3d sent matches the entry."""
        self.assertTrue(wait_for(lambda: self.journal.text().count("login failed") == 11, 10, 0.2),
                        self.diagnostics())
        with self.journal.frozen():
            with Raw(self.env.port, source=ATTACKER) as c:
                c.cmd("USER alice")
                self.assertEqual(c.cmd("PASS wrong"), b"-ERR [AUTH] authentication failed")
                sessions = self.session_pids()
            # Threads: the daemon that wrote the line lives on (nothing to wait for).
            if sessions:
                self.assertTrue(wait_for(lambda: not any(os.path.exists(f"/proc/{p}") for p in sessions), 10))

    def session_pids(self):
        """The pop3d processes serving a connection (inetd style, or forked
        by the daemon): they have the test's config on their command line
        and are not the daemon the launcher started."""
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            if self.env.conf.encode() in cmdline and int(pid) != self.env.server.pid:
                pids.append(pid)
        return pids


class FileJailTest(Fail2banCase):
    """The jail with the override its comment documents for hosts whose
    syslog writes files (or for pop3d's own log_file)."""

    def test_override_bans_from_mail_log(self):
        """Syslog's /var/log/mail.log, on a host with no journal reader:
        the override as documented, word for word."""
        why = journal_missing()
        if why:
            self.skipTest(why)
        self.assertIn("logpath = /var/log/mail.log", documented_override())
        self.start_journal()
        self.journal.follow_mail_log()
        self.start_pop3d(config={"log_file": ""})
        self.start_fail2ban(local=documented_override())
        self.assert_bans_attacker_only()

    def test_override_bans_from_log_file(self):
        """pop3d's own log_file: the documented override with its path."""
        self.start_pop3d()
        open(self.env.log, "a").close()  # fail2ban wants the file to exist at start
        self.start_fail2ban(local=documented_override(logpath=self.env.log))
        self.assert_bans_attacker_only()


if __name__ == "__main__":
    unittest.main()
