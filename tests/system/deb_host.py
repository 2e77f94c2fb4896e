"""The host side of the package test (test_package.py): dpkg calls that wait
for other users of the dpkg lock, a throw-away user with a mailbox, the
admin's own /etc/pam.d/pop3, commands run in a private mount namespace
(what they mount vanishes with them), and a TLS pair where Debian's
snakeoil pair would be. Everything here is put back as it was."""

import os
import shutil
import subprocess
import tempfile
import time

DEB_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
SNAKEOIL_CERT = "/etc/ssl/certs/ssl-cert-snakeoil.pem"
SNAKEOIL_KEY = "/etc/ssl/private/ssl-cert-snakeoil.key"
ADMIN_PAM_FILE = "/etc/pam.d/pop3"
# Harmless if another test reads it (service pop3 is the source build's
# default), and recognisable byte for byte.
ADMIN_PAM_TEXT = (b"#%PAM-1.0\n# The admin's own pop3 service (qpopper), not pop3d's: keep me.\n"
                  b"@include common-auth\n@include common-account\n# \xc3\xa9 no final newline")


def run(*cmd, **kw):
    # stdin at EOF: a dpkg that asks a question fails instead of waiting.
    return subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kw)


def dpkg(*args, prefix=(), env=None):
    """dpkg with args; other agents and apt runs on the machine hold its lock
    for a while at times: wait for it rather than fail."""
    deadline = time.monotonic() + 900
    while True:
        r = run(*prefix, "dpkg", *args, env=env or DEB_ENV)
        if r.returncode == 2 and "locked by another process" in r.stderr and time.monotonic() < deadline:
            time.sleep(2)
            continue
        return r


def installed(package):
    return run("dpkg-query", "-W", "-f=${db:Status-Abbrev}", package).stdout.startswith("ii")


def pop3_servers():
    """Installed packages that provide pop3-server."""
    out = run("dpkg-query", "-W", "-f=${Package}\t${db:Status-Abbrev}\t${Provides}\n").stdout
    return [f[0] for f in (line.split("\t") for line in out.splitlines())
            if len(f) == 3 and f[1].startswith("i") and "pop3-server" in f[2]]


def forget(package):
    """Purges package and drops the selection a refused dpkg -i leaves, so
    that the dpkg database ends as it began."""
    dpkg("--purge", package)
    if run("dpkg-query", "-W", package).returncode == 0:
        subprocess.run(["dpkg", "--set-selections"], input=f"{package} unknown\n", text=True, capture_output=True)


class AdminPamFile:
    """An admin's /etc/pam.d/pop3: the one there, or a distinctive one made
    for the test and removed afterwards."""

    def __init__(self):
        self.created = not os.path.lexists(ADMIN_PAM_FILE)
        if self.created:
            with open(ADMIN_PAM_FILE, "wb") as f:
                f.write(ADMIN_PAM_TEXT)
            os.chmod(ADMIN_PAM_FILE, 0o640)
        self.bytes = self.read()
        self.mode = os.lstat(ADMIN_PAM_FILE).st_mode

    @staticmethod
    def read():
        with open(ADMIN_PAM_FILE, "rb") as f:
            return f.read()

    def unchanged(self):
        return os.path.isfile(ADMIN_PAM_FILE) and self.read() == self.bytes \
            and os.lstat(ADMIN_PAM_FILE).st_mode == self.mode

    def remove(self):
        if self.created and os.path.lexists(ADMIN_PAM_FILE):
            os.unlink(ADMIN_PAM_FILE)


class MailUser:
    """A system user with a password and one message in /var/mail."""
    BODY = b"From a@example.org Thu Nov 26 10:00:00 2026\nSubject: packaged\n\nhello\n"
    SIZE = len(b"Subject: packaged\r\n\r\nhello\r\n")

    def __init__(self, name, password):
        self.name, self.password = name, password
        self.mbox = f"/var/mail/{name}"
        self.remove()
        subprocess.run(["useradd", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", name], check=True)
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n".encode(), check=True)
        with open(self.mbox, "wb") as f:
            f.write(self.BODY)
        shutil.chown(self.mbox, name, "mail")
        os.chmod(self.mbox, 0o660)

    def remove(self):
        run("userdel", "-f", self.name)
        for path in (self.mbox, self.mbox + ".lock"):
            if os.path.lexists(path):
                os.unlink(path)


def private_mounts(script, *args):
    """A command running the sh script in a mount namespace of its own."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-ec", script, "sh", *args]


# Debian's snakeoil pair made as ssl-cert makes it (key 0640 root:ssl-cert
# in a 0710 directory), on tmpfs over /etc/ssl/certs and /etc/ssl/private
# seen only by this command; the certificate is copied to $1 for the
# client. Then the command in "$2...".
_SNAKEOIL_SCRIPT = """
gid=$(getent group ssl-cert | cut -d: -f3)
mount -t tmpfs -o mode=0755 tmpfs /etc/ssl/certs
mount -t tmpfs -o mode=0710,gid=$gid tmpfs /etc/ssl/private
make-ssl-cert generate-default-snakeoil
cp /etc/ssl/certs/ssl-cert-snakeoil.pem "$1"
shift
exec "$@"
"""


class TlsPair:
    """Where tls_cert and tls_key point: Debian's snakeoil pair when the
    machine has it; else one made by make-ssl-cert at the same paths in a
    private mount namespace (wrap() runs commands there); else, without
    ssl-cert, a pair from openssl req in a temporary directory."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="pop3d-deb-tls-")
        os.chmod(self.tmp, 0o755)
        self.namespace = False
        if os.path.exists(SNAKEOIL_CERT) and os.path.exists(SNAKEOIL_KEY):
            self.cert, self.key, self.how = SNAKEOIL_CERT, SNAKEOIL_KEY, "the machine's snakeoil pair"
        elif shutil.which("make-ssl-cert"):
            self.cert, self.key, self.how = SNAKEOIL_CERT, SNAKEOIL_KEY, "a snakeoil pair by make-ssl-cert"
            self.namespace = True
        else:
            self.cert, self.key = os.path.join(self.tmp, "cert.pem"), os.path.join(self.tmp, "key.pem")
            self.how = "a pair by openssl req (ssl-cert not installed)"
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", "/CN=localhost", "-keyout", self.key, "-out", self.cert],
                           check=True, capture_output=True)
        self.served = 0

    def wrap(self, cmd):
        """cmd, run where the pair exists; returns (command, path of the
        certificate the client should trust)."""
        if not self.namespace:
            return cmd, self.cert
        self.served += 1
        copy = os.path.join(self.tmp, f"served-{self.served}.pem")
        return private_mounts(_SNAKEOIL_SCRIPT, copy, *cmd), copy

    def remove(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
