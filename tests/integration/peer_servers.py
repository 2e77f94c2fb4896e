"""The real POP3 servers pop3d replaces, run from Debian's packages, so that
UIDL compatibility (issue 22) is checked against their answers and not
against a re-implementation.

popa3d and Dovecot come unpacked from bench/'s fetch_peers() (apt-get
download + dpkg-deb -x, never installed). Each peer serves one mbox file
in a scratch directory and answers UIDL; nothing on the machine changes:
- Dovecot: the pop3 binary in its standalone (pre-authenticated) mode, on
  pipes, started through the unpacked doveconf; no auth, no listener.
- popa3d: it hard-codes /var/mail, chroot("/var/lib/popa3d"), the PAM
  service "popa3d" and setuid() to the "popa3d" user and to the mail user.
  So it runs in a private user + mount namespace (unshare -rm: works as
  root and as an ordinary user) where the scratch directory is bind-mounted
  on /var/lib and its spool on /var/mail, /tmp is a fresh tmpfs (pam_wrapper's
  /tmp/pam.X cannot collide with other runs), and pam_wrapper + pam_matrix,
  nss_wrapper and uid_wrapper stand in for PAM, the users and setuid().
- UW ipop3d is not in bookworm (no uw-imapd package; its source uw-imap
  2007f~dfsg-7 still builds c-client, libc-client2007e). ipop3d's UIDs are
  c-client's; its UIDL is only the format "%08lx%08lx" (validity, uid). So
  UwPeer compiles peer_uw_probe.c (ours) against the unpacked library and
  runs it, in a user + mount namespace with a private /tmp (c-client puts
  its /tmp/.<dev>.<ino> lock files there) and the scratch dir on /var/lib.

Each peer's connection(user, password) gives the argv, env and cwd of one
inetd-style connection on stdin/stdout, so that test_uidl_compat.py can run
it under socat for real clients (Dovecot behind peer_prelogin.py and on
pipes; UW through peer_uw_pop3.c).

    python3 tests/integration/peer_servers.py [DIR]   # every peer's answers on the fixtures
                                                      # (DIR: also the mailboxes they left, answers.json)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import run_bench  # noqa: E402 (fetch_peers: the bench's own download and unpacking)

WRAPPERS = "/usr/lib/x86_64-linux-gnu"
PAM_MATRIX = f"{WRAPPERS}/pam_wrapper/pam_matrix.so"
PASSWORD = "peer-secret"
MAIL_USER = "peeruser"
IS_ROOT = os.geteuid() == 0
NOBODY = 65534


class PeerUnavailable(Exception):
    """The peer cannot run here; the message says exactly what is missing."""


def fetch(*args):
    """run_bench.fetch_peers(*args); False where the tree cannot be written
    (an ordinary user's test pass, when root's did not fetch them first)."""
    try:
        return run_bench.fetch_peers(*args)
    except OSError:
        return False


def peer_root():
    """The unpacked popa3d + Dovecot tree (build/bench/peers/root)."""
    if not fetch():
        raise PeerUnavailable("apt-get download popa3d dovecot-core dovecot-pop3d failed (see bench/run_bench.py)")
    return os.path.join(run_bench.PEERS, "root")


def prefetch():
    """Fetches every peer's packages now (make check does, as root, before
    its two passes start: the ordinary user's pass cannot write build/, and
    two passes must not unpack into one tree at once). False if some could
    not be had: their tests skip."""
    try:
        peer_root()
        uw_root()
        return True
    except PeerUnavailable:
        return False


UIDL_LINE = re.compile(rb"^(\d+) ([\x21-\x7e]+)$")


def parse_uidl(lines):
    """[(number, id)] from the lines of a UIDL answer (other lines ignored)."""
    out = []
    for line in lines:
        m = UIDL_LINE.match(line.rstrip(b"\r\n"))
        if m:
            out.append((int(m.group(1)), m.group(2).decode()))
    return out


class PipeSession:
    """A POP3 conversation with a server on stdin/stdout, one command at a
    time (popa3d's authentication child must not read ahead)."""

    def __init__(self, argv, env, cwd=None):
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)

    def line(self):
        got = self.proc.stdout.readline()
        if not got:
            raise PeerUnavailable(f"server closed the connection: {self.finish()[1].decode(errors='replace')[-600:]}")
        return got

    def command(self, text, multiline=False):
        self.proc.stdin.write(text.encode() + b"\r\n")
        self.proc.stdin.flush()
        first = self.line()
        lines = [first]
        if multiline and first.startswith(b"+OK"):
            while True:
                got = self.line()
                if got.rstrip(b"\r\n") == b".":
                    break
                lines.append(got)
        return lines

    def finish(self):
        try:
            out, err = self.proc.communicate(timeout=20)
        except (ValueError, OSError):
            out, err = b"", b""
        return out, err


def is_multiline(command):
    words = command.upper().split()
    return words[0] in ("RETR", "TOP") or (words[0] in ("UIDL", "LIST") and len(words) == 1)


def run_commands(peer, s, commands):
    """commands, then QUIT, on a logged-in PipeSession; the UIDL listing and
    every answer. The peer's stderr goes to peer.log."""
    answers, uidl = {}, []
    for c in commands:
        answers[c] = s.command(c, multiline=is_multiline(c))
        if c == "UIDL":
            uidl = parse_uidl(answers[c][1:])
    s.command("QUIT")
    _, err = s.finish()
    peer.log = err.decode(errors="replace")
    return uidl, answers


def _write(path, data, mode=0o644):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.chmod(path, mode)


# ---- Dovecot -------------------------------------------------------------------

DOVECOT_CONF = """\
protocols = pop3
base_dir = {d}/run
state_dir = {d}/state
log_path = /dev/stderr
ssl = no
mail_location = mbox:{d}/home/mail:INBOX={d}/spool/{user}{index}
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 0
first_valid_gid = 0
# the re-executed pop3 must load the unpacked libraries, not the machine's
import_environment = TZ LD_LIBRARY_PATH
{extra}
"""


class DovecotPeer:
    """Dovecot 2.3 (Debian 12) pop3 on an mbox INBOX. index="memory" is
    INDEX=MEMORY (a mailbox Dovecot has never seen, every time);
    "disk" keeps dovecot.index under home/mail/.imap between sessions,
    as Debian's default mail_location does. Dovecot refuses to serve mail
    as root: as root the files belong to nobody and it setuid()s there."""

    name = "dovecot"

    def __init__(self, workdir, index="memory", extra_conf=""):
        self.root = peer_root()
        self.dir = workdir
        self.index = index
        self.extra = extra_conf
        for sub in ("run", "state", "home/mail", "spool"):
            os.makedirs(os.path.join(workdir, sub), exist_ok=True)

    def _conf(self):
        uid, gid = (NOBODY, NOBODY) if IS_ROOT else (os.getuid(), os.getgid())
        index = ":INDEX=MEMORY" if self.index == "memory" else ""
        conf = os.path.join(self.dir, "dovecot.conf")
        _write(conf, DOVECOT_CONF.format(d=self.dir, user=MAIL_USER, index=index, uid=uid, gid=gid,
                                         extra=self.extra))
        if IS_ROOT:
            for base, dirs, files in os.walk(self.dir):
                for n in dirs + files:
                    os.chown(os.path.join(base, n), NOBODY, NOBODY)
            os.chown(self.dir, NOBODY, NOBODY)
        return conf

    def mailbox(self):
        return os.path.join(self.dir, "spool", MAIL_USER)

    def session(self, mbox=None, commands=("UIDL",)):
        """Serves mbox (bytes; None keeps the file from the last session) and
        returns ([(n, id)] of the last UIDL, {command: answer lines})."""
        if mbox is not None:
            _write(self.mailbox(), mbox, 0o600)
        argv, env = self._pop3_command()
        return run_commands(self, PipeSession(argv, env, cwd=self.dir), commands)

    def uidl(self, mbox=None):
        return self.session(mbox)[0]

    def _pop3_command(self):
        """argv + env of Dovecot's pre-authenticated pop3 on stdin/stdout."""
        conf = self._conf()
        lib = os.path.join(self.root, "usr/lib/dovecot")
        env = {"PATH": "/usr/bin:/bin", "HOME": os.path.join(self.dir, "home"), "USER": MAIL_USER,
               "LD_LIBRARY_PATH": lib, "TZ": "UTC"}
        argv = [os.path.join(self.root, "usr/bin/doveconf"), "-c", conf, "-f", "service=pop3", "-m", "pop3",
                "-e", os.path.join(lib, "pop3"), "-c", conf]
        return argv, env

    def connection(self, user, password):
        """(argv, env, cwd) of one inetd-style connection (stdin/stdout the
        socket) that a real client logs in to: peer_prelogin.py answers
        USER/PASS, then execs the pre-authenticated pop3 (see session())."""
        argv, env = self._pop3_command()
        return ["/usr/bin/python3", os.path.join(HERE, "peer_prelogin.py"), user, password, *argv], env, self.dir


# ---- popa3d ----------------------------------------------------------------------

POPA3D_INSIDE = """\
set -e
mount --bind "$SCRATCH" /var/lib
mount --bind /var/lib/spool /var/mail
mount -t tmpfs -o mode=1777 tmpfs /tmp
exec env -i PATH=/usr/bin:/bin TZ=UTC \\
  LD_PRELOAD=libpam_wrapper.so:libnss_wrapper.so:libuid_wrapper.so \\
  PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=/var/lib/pam.d \\
  NSS_WRAPPER_PASSWD=/var/lib/passwd NSS_WRAPPER_GROUP=/var/lib/group \\
  UID_WRAPPER=1 UID_WRAPPER_ROOT=1 \\
  "$POPA3D"
"""


class Popa3dPeer:
    """popa3d 1.0.3 (Debian 12) in inetd mode on pipes, in a private user and
    mount namespace (see the module doc)."""

    name = "popa3d"

    def __init__(self, workdir, user=MAIL_USER, password=PASSWORD):
        self.root = peer_root()
        self.dir = workdir
        self.user, self.password = user, password
        missing = [p for p in (f"{WRAPPERS}/libpam_wrapper.so", f"{WRAPPERS}/libnss_wrapper.so",
                               f"{WRAPPERS}/libuid_wrapper.so", PAM_MATRIX) if not os.path.exists(p)]
        if missing:
            raise PeerUnavailable(f"popa3d needs libpam-wrapper libnss-wrapper libuid-wrapper: missing {missing}")
        if not shutil.which("unshare"):
            raise PeerUnavailable("popa3d needs unshare(1) (util-linux)")
        if not os.path.isdir("/var/mail"):
            raise PeerUnavailable("popa3d needs a /var/mail directory to mount its spool on")
        for sub in ("spool", "popa3d", "pam.d"):
            os.makedirs(os.path.join(workdir, sub), exist_ok=True)
        os.chmod(workdir, 0o755)
        # Inside the namespace only the scratch dir (on /var/lib) is sure to
        # be seen: the tree may live under the /tmp the namespace hides.
        shutil.copy2(os.path.join(self.root, "usr/sbin/popa3d"), os.path.join(workdir, "popa3d-bin"))
        _write(os.path.join(workdir, "passwd"),
               "root:x:0:0:root:/root:/bin/sh\n"
               "popa3d:x:4001:4001:popa3d:/var/lib/popa3d:/usr/sbin/nologin\n"
               f"{user}:x:4002:4002:peer:/var/lib/popa3d:/bin/sh\n")
        _write(os.path.join(workdir, "group"), "root:x:0:\npopa3d:x:4001:\nmail:x:8:\npeer:x:4002:\n")
        _write(os.path.join(workdir, "passdb"), f"{user}:{password}:popa3d\n")
        _write(os.path.join(workdir, "pam.d", "popa3d"),
               f"auth required {PAM_MATRIX} passdb=/var/lib/passdb\n"
               f"account required {PAM_MATRIX} passdb=/var/lib/passdb\n")

    def mailbox(self):
        return os.path.join(self.dir, "spool", self.user)

    def connection(self, user=None, password=None):
        """(argv, env, cwd) of one inetd-style popa3d connection (stdin/stdout
        the socket). popa3d does its own login: the user and password are
        the constructor's (user, password: only for the other peers' sake)."""
        if (user, password) not in ((None, None), (self.user, self.password)):
            raise ValueError("Popa3dPeer: give the user and password to the constructor")
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SCRATCH": self.dir, "POPA3D": "/var/lib/popa3d-bin"}
        argv = ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private",
                "sh", "-c", POPA3D_INSIDE]
        return argv, env, None

    def session(self, mbox=None, commands=("UIDL",)):
        if mbox is not None:
            _write(self.mailbox(), mbox, 0o600)
        argv, env, _ = self.connection()
        s = PipeSession(argv, env)
        greeting = s.line()
        if not greeting.startswith(b"+OK"):
            raise PeerUnavailable(f"popa3d greeting: {greeting!r}")
        s.command(f"USER {self.user}")
        reply = s.command(f"PASS {self.password}")
        if not reply[0].startswith(b"+OK"):
            _, err = s.finish()
            raise PeerUnavailable(f"popa3d login failed: {reply!r} {err.decode(errors='replace')[-600:]}")
        return run_commands(self, s, commands)

    def uidl(self, mbox=None):
        return self.session(mbox)[0]


# ---- UW (c-client) -------------------------------------------------------------

UW_PACKAGES = ["libc-client2007e", "libc-client2007e-dev", "mlock"]
UW_PEERS = os.path.join(ROOT, "build", "bench", "peers-uw")


def uw_root():
    """Unpacks the c-client packages with the bench's fetch_peers()."""
    root = os.path.join(UW_PEERS, "root")
    if os.path.exists(os.path.join(root, "usr/include/c-client/c-client.h")):
        return root
    if not fetch(UW_PACKAGES, UW_PEERS, ("usr/include/c-client/c-client.h",)):
        raise PeerUnavailable(f"apt-get download {' '.join(UW_PACKAGES)} failed")
    return root


class UwPeer:
    """UW ipop3d's UIDL answer, from c-client (see the module doc). It
    opens the mailbox by a name relative to HOME: Debian's c-client refuses
    absolute paths ("no such mailbox")."""

    name = "uw"

    def __init__(self, workdir):
        self.root = uw_root()
        self.dir = workdir
        if not shutil.which("gcc"):
            raise PeerUnavailable("the UW probe needs gcc")
        self.probe = self._compile("peer_uw_probe.c", "uw-probe")
        os.makedirs(os.path.join(workdir, "home"), exist_ok=True)

    def _compile(self, source, name):
        # The programs run in a namespace that sees only the scratch dir (on
        # /var/lib; the tree may be under the /tmp it hides): the library
        # goes there too, and the run path names it as seen from inside.
        out = os.path.join(self.dir, name)
        lib = os.path.join(self.root, "usr/lib")
        os.makedirs(os.path.join(self.dir, "uw-lib"), exist_ok=True)
        shutil.copy2(os.path.join(lib, "libc-client.so.2007e"), os.path.join(self.dir, "uw-lib"))
        r = subprocess.run(["gcc", "-std=gnu99", "-O1", "-I", os.path.join(self.root, "usr/include/c-client"),
                            "-o", out, os.path.join(HERE, source), "-L", lib,
                            "-l:libc-client.so.2007e", "-Wl,-rpath,/var/lib/uw-lib"], capture_output=True, text=True)
        if r.returncode != 0:  # our program: a failure, never a skip
            raise RuntimeError(f"compiling {source} failed: {r.stderr[-600:]}")
        return out

    def connection(self, user, password):
        """(argv, env, cwd) of one inetd-style connection (stdin/stdout the
        socket) to peer_uw_pop3.c: ipop3d's ids and write-back from c-client,
        our POP3 framing (see that file)."""
        if not os.path.exists(os.path.join(self.dir, "uw-pop3")):
            self._compile("peer_uw_pop3.c", "uw-pop3")
        inside = ('mount --bind "$SCRATCH" /var/lib && mount -t tmpfs -o mode=1777 tmpfs /tmp && '
                  'cd /var/lib/home && HOME=/var/lib/home exec /var/lib/uw-pop3 mbox "$POP_USER" "$POP_PASS"')
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SCRATCH": self.dir, "USER": user, "TZ": "UTC",
               "POP_USER": user, "POP_PASS": password}
        return ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private",
                "sh", "-c", inside], env, None

    def mailbox(self):
        return os.path.join(self.dir, "home", "mbox")

    def uidl(self, mbox=None):
        if mbox is not None:
            _write(self.mailbox(), mbox, 0o600)
        inside = ('mount --bind "$SCRATCH" /var/lib && mount -t tmpfs -o mode=1777 tmpfs /tmp && '
                  'cd /var/lib/home && HOME=/var/lib/home exec /var/lib/uw-probe mbox')
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SCRATCH": self.dir, "USER": MAIL_USER, "TZ": "UTC"}
        r = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private",
                            "sh", "-c", inside], env=env, capture_output=True, timeout=60)
        self.log = r.stderr.decode(errors="replace")
        if r.returncode != 0 or not r.stdout.endswith(b".\n"):
            raise PeerUnavailable(f"UW probe failed (exit {r.returncode}): {self.log[-600:]}")
        return parse_uidl(r.stdout.splitlines())


def scratch(prefix):
    """A fresh directory for one peer (the caller removes it). The peers'
    namespaces bind it elsewhere before they hide /tmp, so /tmp is fine."""
    return tempfile.mkdtemp(prefix=f"pop3d-peer-{prefix}-")


def record(out_dir=None):
    """Serves every fixture with every peer and returns {fixture: {peer:
    {"uidl": [[n, id]], "rewritten": bool}}}; with out_dir, also writes each
    peer's mailbox as the session left it (FIXTURE.PEER.mbox) there."""
    from peer_fixtures import FIXTURES
    result = {}
    for name, data in FIXTURES.items():
        result[name] = {}
        for cls in (Popa3dPeer, DovecotPeer, UwPeer):
            d = scratch(cls.name)
            try:
                peer = cls(d)
                uidl = peer.uidl(data)
                with open(peer.mailbox(), "rb") as f:
                    after = f.read()
                result[name][cls.name] = {"uidl": uidl, "rewritten": after != data}
                if out_dir:
                    _write(os.path.join(out_dir, f"{name}.{cls.name}.mbox"), after)
            except PeerUnavailable as e:
                result[name][cls.name] = {"unavailable": str(e)}
            finally:
                shutil.rmtree(d, ignore_errors=True)
    return result


def main():
    import json
    out_dir = sys.argv[1] if len(sys.argv) > 1 else None
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    result = record(out_dir)
    for name, peers in result.items():
        print(f"== {name}")
        for peer, r in peers.items():
            print(f"  {peer}: {r}")
    if out_dir:
        _write(os.path.join(out_dir, "answers.json"), json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
