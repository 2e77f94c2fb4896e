"""Running fetchmail and getmail6 against a test server, shared by the
integration and system tests."""

import os
import subprocess
import tempfile


def run_fetchmail(parent, port, user, password, separator=""):
    """fetchall + nokeep with UIDL; returns (CompletedProcess, delivered bytes).
    Each message is followed by a line `separator` in the output. (fetchmail
    expands %s in an MDA command, so keep % out of it.)"""
    work = tempfile.mkdtemp(dir=parent)
    out = os.path.join(work, "out")
    rc = os.path.join(work, "fetchmailrc")
    sep = f"; echo {separator} >> {out}" if separator else ""
    with open(rc, "w") as f:
        f.write(f'poll 127.0.0.1 service {port} protocol pop3 uidl\n'
                f'  user "{user}" password "{password}" is root here fetchall nokeep sslproto ""\n'
                f'  mda "/bin/sh -c \'cat >> {out}{sep}\'"\n')
    os.chmod(rc, 0o600)
    r = subprocess.run(["fetchmail", "-f", rc, "-i", os.path.join(work, "ids"), "--nosyslog"],
                       capture_output=True, timeout=120, env={**os.environ, "HOME": work})
    data = b""
    if os.path.exists(out):
        with open(out, "rb") as f:
            data = f.read()
    return r, data


def run_getmail(parent, port, user, password, runs=1):
    """SimplePOP3Retriever into an mboxrd file, as nobody when we are root
    (getmail refuses to deliver as root; `parent` must be traversable by
    nobody). Returns (last result, mbox path)."""
    work = tempfile.mkdtemp(dir=parent)
    os.chmod(work, 0o777)
    dest = os.path.join(work, "inbox.mbox")
    open(dest, "w").close()
    os.chmod(dest, 0o666)
    rc = os.path.join(work, "getmailrc")
    with open(rc, "w") as f:
        f.write(f"[retriever]\ntype = SimplePOP3Retriever\nserver = 127.0.0.1\nport = {port}\n"
                f"username = {user}\npassword = {password}\n\n[destination]\ntype = Mboxrd\npath = {dest}\n\n"
                f"[options]\nread_all = false\ndelete = false\nverbose = 0\n")
    os.chmod(rc, 0o644)
    cmd = ["getmail", "--rcfile", rc, "--getmaildir", work]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd]
    r = None
    for _ in range(runs):
        r = subprocess.run(cmd, capture_output=True, timeout=120)
        if r.returncode != 0:
            break
    return r, dest


class KeepingFetchmail:
    """fetchmail in `keep` + `uidl` mode (leave mail on the server, fetch
    only ids it has not seen) with a persistent ids file (-i) across runs:
    what a user who switches servers has. run() returns the messages
    delivered by that run."""

    SEPARATOR = b"==END-OF-MESSAGE=="

    def __init__(self, parent, port, user, password):
        self.work = tempfile.mkdtemp(dir=parent)
        self.out = os.path.join(self.work, "out")
        self.ids = os.path.join(self.work, "ids")
        self.rc = os.path.join(self.work, "fetchmailrc")
        with open(self.rc, "w") as f:
            f.write(f'poll 127.0.0.1 service {port} protocol pop3 uidl\n'
                    f'  user "{user}" password "{password}" is root here keep sslproto ""\n'
                    f'  mda "/bin/sh -c \'cat >> {self.out}; echo {self.SEPARATOR.decode()} >> {self.out}\'"\n')
        os.chmod(self.rc, 0o600)

    def run(self):
        """(CompletedProcess, [message bytes]); exit 1 is fetchmail's "no mail"."""
        open(self.out, "wb").close()
        r = subprocess.run(["fetchmail", "-f", self.rc, "-i", self.ids, "--nosyslog"], capture_output=True,
                           timeout=120, env={**os.environ, "HOME": self.work})
        with open(self.out, "rb") as f:
            data = f.read()
        return r, data.split(self.SEPARATOR + b"\n")[:-1]


class KeepingGetmail:
    """getmail6 with read_all = false, delete = false: its oldmail file in
    the getmaildir (kept across runs) lists the ids already fetched. As
    nobody when we are root (getmail refuses to deliver as root; `parent`
    must be traversable by nobody). run() returns the messages delivered
    by that run."""

    def __init__(self, parent, port, user, password):
        self.work = tempfile.mkdtemp(dir=parent)
        os.chmod(self.work, 0o777)
        self.dest = os.path.join(self.work, "inbox.mbox")
        self.rc = os.path.join(self.work, "getmailrc")
        with open(self.rc, "w") as f:
            f.write(f"[retriever]\ntype = SimplePOP3Retriever\nserver = 127.0.0.1\nport = {port}\n"
                    f"username = {user}\npassword = {password}\n\n[destination]\ntype = Mboxrd\n"
                    f"path = {self.dest}\n\n[options]\nread_all = false\ndelete = false\nverbose = 0\n")
        os.chmod(self.rc, 0o644)

    def run(self):
        import mailbox
        with open(self.dest, "wb"):
            pass
        os.chmod(self.dest, 0o666)
        cmd = ["getmail", "--rcfile", self.rc, "--getmaildir", self.work]
        if os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd]
        r = subprocess.run(cmd, capture_output=True, timeout=120)
        return r, [m.as_bytes() for m in mailbox.mbox(self.dest)]
