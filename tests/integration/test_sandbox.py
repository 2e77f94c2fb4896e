"""The hardened systemd units (contrib/systemd): their exposure score, and
pop3d working under the same restrictions applied by hand.

systemd is not PID 1 on the test machines, so the by-hand run reads the
unit's [Service] settings (unit_sandbox.py) and applies them with unshare
and sandbox_exec.py: a mount namespace with a read-only root, the
ReadWritePaths and the RuntimeDirectory bound writable (the test's spool
stands for /var/mail, its run directory for /run/pop3d), tmpfs /tmp and
/var/tmp, /home and /root hidden, a /dev of pseudo devices, /proc mounted
subset=pid,hidepid=invisible, UTS and IPC namespaces, the capability
bounding set, no_new_privs, the umask, and the system call filter with the
address-family, namespace, W^X, SUID/SGID, realtime and personality filters
as seccomp BPF programs built from systemd's own group lists
(`systemd-analyze syscall-filter`).

PAM is the real thing: the unit's pop3d reads /etc/pam.d/pop3 (the contrib
file, with Debian 12's default common-auth and common-account: pam_unix),
and pam_unix reads /etc/passwd and /etc/shadow (root:shadow 0640), all of
them the test's files bound over the host's inside the namespace only.
Not covered: the host's own PAM stack and NSS sources (sssd, LDAP,
faillock...), syslog through /dev/log (the test logs to a file it binds in),
systemd's own implementation of each setting, TLS key files."""

import ctypes
import grp
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import time
import unittest

from harness import IS_ROOT, POP3D, ROOT, USERS, Env, Raw, free_port, greets, have, mbox_message, temp_dir, wait_for
from free_ports import wait_for_server
import test_tls
import unit_sandbox

UNITS = os.path.join(ROOT, "contrib", "systemd")
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_exec.py")
# sys.executable may live under /root (pyenv), which ProtectHome hides.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3")
MAX_EXPOSURE = 4.0

# Debian 12's pam-auth-update defaults (libpam-runtime alone).
COMMON_AUTH = ("auth [success=1 default=ignore] pam_unix.so nullok\n"
               "auth requisite pam_deny.so\nauth required pam_permit.so\n")
COMMON_ACCOUNT = ("account [success=1 new_authtok_reqd=done default=ignore] pam_unix.so\n"
                  "account requisite pam_deny.so\naccount required pam_permit.so\n")


# Run in the sandbox instead of pop3d: one outcome per attempt (ok or the errno name).
PROBE = r"""
import ctypes, errno, json, os, socket
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
def c(rc):
    if rc in (-1, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "")
def outcome(attempt):
    try:
        attempt()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def write(path):
    with open(path, "w") as f:
        f.write("x")
    os.unlink(path)
open("/tmp/f", "w").close()
status = dict(l.split(":\t") for l in open("/proc/self/status") if ":\t" in l)
print(json.dumps({
    "socket AF_INET": outcome(lambda: socket.socket(socket.AF_INET).close()),
    "socket AF_PACKET": outcome(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close()),
    "unshare CLONE_NEWNS": outcome(lambda: c(libc.unshare(0x20000))),
    "clone3": outcome(lambda: c(libc.syscall(435, None, 0))),
    "mmap W+X": outcome(lambda: c(libc.mmap(None, 4096, 6, 0x22, -1, 0))),
    "mmap R+X": outcome(lambda: c(libc.mmap(None, 4096, 5, 0x22, -1, 0))),
    "setpriority 5": outcome(lambda: os.setpriority(os.PRIO_PROCESS, 0, 5)),
    "sethostname": outcome(lambda: c(libc.sethostname(b"x", 1))),
    "personality PER_BSD": outcome(lambda: c(libc.personality(6))),
    "chmod 0755": outcome(lambda: os.chmod("/tmp/f", 0o755)),
    "chmod 04755": outcome(lambda: os.chmod("/tmp/f", 0o4755)),
    "write /etc": outcome(lambda: write("/etc/pop3d-sandbox-probe")),
    "write /var/mail": outcome(lambda: write("/var/mail/pop3d-sandbox-probe")),
    "list /home": outcome(lambda: os.listdir("/home")),
    "write /proc/sys": outcome(lambda: open("/proc/sys/kernel/hostname", "w").close()),
    "read boot_id": outcome(lambda: open("/proc/sys/kernel/random/boot_id").read()),
    "/dev/sda": outcome(lambda: os.stat("/dev/sda")),
    "caps": [int(status["CapBnd"], 16), int(status["CapPrm"], 16)],
}))
"""


def exposure(unit_path):
    """The overall exposure `systemd-analyze security --offline` gives, or
    None when this systemd-analyze has no offline mode."""
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", unit_path],
                       capture_output=True, text=True, timeout=120)
    if "offline" in r.stderr and r.returncode != 0:
        return None
    for line in r.stdout.splitlines():
        if "Overall exposure level" in line:
            return float(line.split(":")[1].split()[0])
    raise AssertionError(r.stdout + r.stderr)


def installed_copy(name, directory):
    """The unit with ExecStart on the built binary, as `make install` would
    rewrite /usr/sbin/pop3d."""
    with open(os.path.join(UNITS, name)) as f:
        text = f.read().replace("/usr/sbin/pop3d", POP3D)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


@unittest.skipUnless(have("systemd-analyze"), "systemd-analyze not installed")
class ExposureTest(unittest.TestCase):
    def test_units_score_at_most_4(self):
        work = temp_dir(self, "pop3d-units-")
        for name in ("pop3d.service", "pop3d@.service"):
            with self.subTest(unit=name):
                score = exposure(installed_copy(name, work))
                if score is None:
                    self.skipTest("systemd-analyze security has no --offline")
                self.assertLessEqual(score, MAX_EXPOSURE)


def missing_tools():
    if platform.machine() != "x86_64":
        return "the by-hand seccomp filters know x86_64 only"
    for tool in ("unshare", "systemd-analyze"):
        if not have(tool):
            return f"{tool} not installed"
    for header in (unit_sandbox.SYSCALL_HEADER, unit_sandbox.CAPABILITY_HEADER):
        if not os.path.exists(header):
            return f"{header} missing (linux-libc-dev)"
    r = subprocess.run(["unshare", "--mount", "--uts", "--ipc", "--propagation", "private", "mount", "-t", "proc",
                        "-o", "subset=pid,hidepid=invisible", "proc", "/proc"], capture_output=True)
    return None if r.returncode == 0 else "cannot create namespaces or mount a private /proc here"


def password_hash(password):
    """yescrypt (Debian 12's default) or SHA-512 through libcrypt, as passwd(1) would."""
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_gensalt.restype = lib.crypt.restype = ctypes.c_char_p
    salt = lib.crypt_gensalt(b"$y$", 0, None, 0) or lib.crypt_gensalt(b"$6$", 0, None, 0)
    return lib.crypt(password.encode(), salt).decode()


def messages():
    return [mbox_message(f"sender{i}@example.org", f"Thu Nov 26 10:00:0{i} 2026",
                         [f"Subject: msg {i}", f"Message-ID: <msg{i}@x>"], f"body of msg {i}\n".encode())
            for i in (1, 2, 3)]


def free_low_port():
    """A free port below 1024: binding it takes CAP_NET_BIND_SERVICE."""
    for port in random.sample(range(600, 1024), 424):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port below 1024")


def binary_under_tmp():
    """POP3D_BINARY may be a build under /tmp, which PrivateTmp hides: bound back."""
    real = os.path.realpath(POP3D)
    return [(real, True)] if real.startswith(("/tmp/", "/var/tmp/")) else []


def sanitizer_settings():
    """make asan/tsan: the runtime's options reach the daemon, and the
    directories its reports go to stay writable (they are under /tmp)."""
    env = {k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")}
    if env:
        # libasan's crypt_r interceptor finds no real crypt_r when pam_unix
        # dlopens libcrypt after start-up (a NULL call): load it first.
        env["LD_PRELOAD"] = "libcrypt.so.1"
    dirs = {os.path.dirname(part[len("log_path="):]) for v in env.values() for part in v.replace(" ", ":").split(":")
            if part.startswith("log_path=")}
    return env, [(d, False) for d in sorted(dirs)]


def task_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def child_running(parent, binary):
    """A child of parent that runs binary (the per-connection pop3d -i)."""
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == parent and os.readlink(f"/proc/{name}/exe") == binary:
                return int(name)
        except (OSError, ValueError, IndexError):
            continue
    return None


@unittest.skipUnless(IS_ROOT, "needs root: mount namespaces, the bounding set, real uids")
class ByHandSandboxTest(unittest.TestCase):
    """Login, RETR, DELE and the expunge at QUIT under each unit's sandbox."""

    @classmethod
    def setUpClass(cls):
        why = missing_tools()
        if why:
            raise unittest.SkipTest(why)

    def setUp(self):
        self.env = Env(pam_mode="confdir")
        self.addCleanup(self.env.close)
        self.log_dir = os.path.join(self.env.dir, "log")
        os.mkdir(self.log_dir, 0o755)
        self.env.settings = {"log_file": os.path.join(self.log_dir, "pop3d.log"), "login_fail_delay": "0",
                             "auth_fail_budget": "0", "lock_timeout": "1"}
        for kv in os.environ.get("POP3D_TEST_CONFIG", "").split():  # e.g. bigger stacks under ASan
            key, _, value = kv.partition("=")
            self.env.settings[key] = value
        self.env.write_config()  # mailbox, session_lock_dir, runtime_dir: the defaults, as installed
        self.host_files = self.write_host_files()
        self.msgs = messages()
        self.env.write_mailbox("alice", b"".join(self.msgs))
        self.server = None
        self.addCleanup(self.stop)

    def write_host_files(self):
        """/etc/passwd, group, shadow, nsswitch.conf and pam.d as the test
        wants the host to look (bound over the real ones in the namespace)."""
        etc = os.path.join(self.env.dir, "etc")
        os.makedirs(os.path.join(etc, "pam.d"))
        uids, shadow_gid = self.env.uids, grp.getgrnam("shadow").gr_gid
        changed = int(time.time() // 86400) - 1  # the password's last change: yesterday
        files = {
            "passwd": "root:x:0:0:root:/root:/bin/sh\n" + "".join(
                f"{n}:x:{uids[n]}:{uids[n]}:{n}:/home/{n}:/bin/sh\n" for n in USERS),
            "group": f"root:x:0:\nshadow:x:{shadow_gid}:\nmail:x:{self.env.mail_gid}:\n" + "".join(
                f"{n}:x:{uids[n]}:\n" for n in USERS),
            "shadow": "root:*:19000:0:99999:7:::\n" + "".join(
                f"{n}:{password_hash(pw)}:{changed}:0:99999:7:::\n" for n, (pw, _) in USERS.items()),
            "nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\nhosts: files\n",
            "pam.d/common-auth": COMMON_AUTH,
            "pam.d/common-account": COMMON_ACCOUNT,
        }
        for name, text in files.items():
            with open(os.path.join(etc, name), "w") as f:
                f.write(text)
            os.chmod(os.path.join(etc, name), 0o644)
        shutil.copy(os.path.join(ROOT, "contrib", "pam.d", "pop3"), os.path.join(etc, "pam.d", "pop3"))
        os.chown(os.path.join(etc, "shadow"), 0, shadow_gid)  # as on Debian: root reads it as its owner
        os.chmod(os.path.join(etc, "shadow"), 0o640)
        return {f"/etc/{n}": os.path.join(etc, n) for n in ("passwd", "group", "shadow", "nsswitch.conf", "pam.d")}

    def spec(self, unit, args, env=None, drop_caps=()):
        os.chmod(self.env.run_dir, unit_sandbox.runtime_directory_mode(os.path.join(UNITS, unit)))
        san_env, san_dirs = sanitizer_settings()
        s = unit_sandbox.spec(os.path.join(UNITS, unit), POP3D, ["-c", self.env.conf, *args],
                              env={**san_env, **(env or {})},
                              host={**self.host_files, "/var/mail": self.env.spool, "/run/pop3d": self.env.run_dir},
                              keep=[(self.env.dir, True), (self.log_dir, False), *binary_under_tmp(), *san_dirs],
                              drop_caps=drop_caps)
        self.expected_filters = len(s["seccomp"])
        self.expected_bounding = sum(1 << c for c in s["keep_caps"])
        path = unit_sandbox.write_spec(os.path.join(self.env.dir, "spec.json"), s)
        return [shutil.which("unshare"), *s["unshare"], "--", PYTHON, RUNNER, path]

    def start_daemon(self, args=(), drop_caps=()):
        """pop3d.service by hand: pop3d -f binding a port below 1024, ready
        when it says READY=1 on its notify socket (Type=notify)."""
        self.port = free_low_port()
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(notify.close)
        name = f"pop3d-sandbox-{os.getpid()}-{random.getrandbits(32)}"
        notify.bind("\0" + name)
        cmd = self.spec("pop3d.service", ["-l", f"127.0.0.1:{self.port}", *args],
                        env={"NOTIFY_SOCKET": "@" + name}, drop_caps=drop_caps)
        with open(os.path.join(self.env.dir, "daemon.stderr"), "ab") as err:
            self.server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        notify.settimeout(0.1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self.server.poll() is None:
            try:
                if b"READY=1" in notify.recv(4096):
                    return self.server.pid
            except socket.timeout:
                pass
        self.fail("no READY=1 from the sandboxed daemon\n" + self.diagnostics())

    def start_per_connection(self, drop_caps=()):
        """pop3d.socket + pop3d@.service by hand: systemd-socket-activate
        -a --inetd starts one sandboxed pop3d -i per connection."""
        if not have("systemd-socket-activate"):
            self.skipTest("systemd-socket-activate not installed")
        self.port = free_port()
        cmd = ["systemd-socket-activate", "-l", f"127.0.0.1:{self.port}", "-a", "--inetd",
               *self.spec("pop3d@.service", [], drop_caps=drop_caps)]
        with open(os.path.join(self.env.dir, "daemon.stderr"), "ab") as err:
            self.server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        state = wait_for_server(lambda: greets(self.port), self.server, 20)
        self.assertEqual(state, "ready", self.diagnostics())

    def stop(self):
        if self.server and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()

    def diagnostics(self):
        out = ""
        for name in ("daemon.stderr", "log/pop3d.log"):
            try:
                with open(os.path.join(self.env.dir, name), errors="replace") as f:
                    out += f"--- {name}\n{f.read()[-3000:]}"
            except FileNotFoundError:
                pass
        return out

    def assert_sandboxed(self, pid, logged_in):
        """What the kernel says of the session's task: the unit's bounding
        set, no_new_privs, every filter installed."""
        st = task_status(pid)
        self.assertEqual(int(st["CapBnd"], 16), self.expected_bounding, st)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        self.assertEqual(int(st["Seccomp_filters"]), self.expected_filters)
        if logged_in:  # -i: the process is alice's, with no capability left
            self.assertEqual(st["Uid"].split()[0], str(self.env.uids["alice"]))
            self.assertEqual(int(st["CapPrm"], 16), 0)

    def use_tls(self):
        """A certificate and key where Debian keeps them: /etc/ssl/private,
        root:ssl-cert 0710, the key root:ssl-cert 0640 (root reads it as
        its owner). Returns the certificate for the client."""
        if not test_tls.tls_built_in() or not have("openssl"):
            self.skipTest("pop3d built without TLS, or no openssl command")
        if not os.path.isdir("/etc/ssl/private"):
            self.skipTest("no /etc/ssl/private (ssl-cert) to bind the key over")
        private = os.path.join(self.env.dir, "ssl-private")
        os.mkdir(private)
        cert, key = test_tls.make_cert(private)
        try:
            group = grp.getgrnam("ssl-cert").gr_gid
        except KeyError:
            group = 0
        for path, mode in ((private, 0o710), (key, 0o640), (cert, 0o644)):
            os.chown(path, 0, group)
            os.chmod(path, mode)
        self.host_files["/etc/ssl/private"] = private
        self.env.write_config(tls_cert="/etc/ssl/private/cert.pem", tls_key="/etc/ssl/private/key.pem")
        return cert

    def session(self, pid_of_session, cert=None):
        """USER/PASS through real pam_unix, RETR 2, DELE 2, QUIT: the mailbox
        loses exactly message 2 (an expunge that rewrites the file in the
        spool, the mail group taken for its temporary file)."""
        with Raw(self.port, timeout=20) as c:
            self.assertTrue(c.greeting.startswith(b"+OK"), self.diagnostics())
            if cert:
                self.assertTrue(test_tls.starttls(c, cert).startswith(b"+OK"), self.diagnostics())
            self.assertEqual(c.login("alice", "not her password")[:4], b"-ERR")  # pam_unix checks
            self.assertEqual(c.login("alice")[:3], b"+OK", self.diagnostics())
            pid = pid_of_session()
            self.assertIsNotNone(pid)
            self.assert_sandboxed(pid, logged_in=pid != self.server.pid)
            self.assertTrue(c.cmd("STAT").startswith(b"+OK 3 "))
            status, body = c.multiline("RETR 2")
            self.assertTrue(status.startswith(b"+OK"), status)
            self.assertIn(b"Subject: msg 2\r\n", body)
            self.assertIn(b"body of msg 2\r\n", body)
            self.assertTrue(c.cmd("DELE 2").startswith(b"+OK"))
            self.assertTrue(c.cmd("QUIT").startswith(b"+OK"), self.diagnostics())
        self.assertEqual(self.env.read_mailbox("alice"), self.msgs[0] + self.msgs[2])
        st = os.stat(self.env.mailbox("alice"))
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777),
                         (self.env.uids["alice"], self.env.mail_gid, 0o660))

    def test_pop3d_service_threads(self):
        pid = self.start_daemon()
        self.session(lambda: pid)

    def test_pop3d_service_fork(self):
        pid = self.start_daemon(["-o", "process_model=fork"])
        self.session(lambda: wait_for(lambda: child_running(pid, POP3D)) and child_running(pid, POP3D))

    def test_pop3d_service_stls(self):
        cert = self.use_tls()
        pid = self.start_daemon()
        self.session(lambda: pid, cert)

    def test_pop3d_at_service_stls(self):
        cert = self.use_tls()
        self.start_per_connection()
        self.session(lambda: wait_for(lambda: child_running(self.server.pid, POP3D))
                     and child_running(self.server.pid, POP3D), cert)

    def test_pop3d_at_service_per_connection(self):
        self.start_per_connection()
        self.session(lambda: wait_for(lambda: child_running(self.server.pid, POP3D))
                     and child_running(self.server.pid, POP3D))

    def test_the_filters_deny_what_the_unit_denies(self):
        """The by-hand sandbox is real: a probe run in pop3d.service's place
        meets each restriction (and what the unit allows still works)."""
        cmd = self.spec("pop3d.service", [])
        spec_path = cmd[-1]
        with open(spec_path) as f:
            s = json.load(f)
        s["argv"] = [PYTHON, "-c", PROBE]
        unit_sandbox.write_spec(spec_path, s)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), {
            "socket AF_INET": "ok", "socket AF_PACKET": "EAFNOSUPPORT", "unshare CLONE_NEWNS": "EPERM",
            "clone3": "ENOSYS", "mmap W+X": "EPERM", "mmap R+X": "ok", "setpriority 5": "EPERM",
            "sethostname": "EPERM", "personality PER_BSD": "EPERM", "chmod 0755": "ok",
            "chmod 04755": "EPERM", "write /etc": "EROFS", "write /var/mail": "ok", "list /home": "EACCES",
            "write /proc/sys": "EROFS", "read boot_id": "ok", "/dev/sda": "ENOENT", "caps": [self.expected_bounding] * 2})

    def test_without_cap_setuid_no_login(self):
        """The by-hand sandbox is real: cut CAP_SETUID from the unit's set and
        the drop to the user fails, in both units; the mailbox is untouched."""
        for unit in ("pop3d.service", "pop3d@.service"):
            with self.subTest(unit=unit):
                if unit == "pop3d.service":
                    self.start_daemon(drop_caps=["CAP_SETUID"])
                else:
                    self.start_per_connection(drop_caps=["CAP_SETUID"])
                with Raw(self.port, timeout=20) as c:
                    self.assertTrue(c.login("alice").startswith(b"-ERR"))
                self.assertEqual(self.env.read_mailbox("alice"), b"".join(self.msgs))
                self.stop()


if __name__ == "__main__":
    unittest.main()
