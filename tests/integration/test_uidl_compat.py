"""Issue 22: `uidl_compat` gives every message the old server listed exactly
the UIDL that server gave it, checked against the REAL old servers
(peer_servers.py: Debian 12's popa3d and Dovecot; UW ipop3d's ids from
c-client, since uw-imapd left Debian):

1. Identical ids: the peer answers UIDL on a fixture of peer_fixtures.py,
   then pop3d serves the mailbox as the peer left it (Dovecot and UW write
   X-IMAPbase/X-UID into it) with `uidl_compat` set.
2. A real client across the switch: fetchmail (keep + uidl, ids file) and
   getmail6 (read_all = false, delete = false, oldmail file) fetch from the
   old server over TCP, the old server stops, two messages are delivered,
   pop3d takes the SAME host:port (both clients key their state on it), and
   the clients fetch exactly the two new messages, then nothing. A control
   flow with uidl_compat = none shows the old messages fetched again.

A peer that cannot run here skips with the reason (PeerUnavailable)."""

import os
import re
import shlex
import shutil
import socket
import subprocess
import time
import unittest

from harness import Env, Raw, USERS, free_port, have, stop_server, temp_dir, wait_for_server
from mail_clients import KeepingFetchmail, KeepingGetmail
from peer_fixtures import FIXTURES, msg
from peer_servers import DovecotPeer, PeerUnavailable, Popa3dPeer, UwPeer, scratch

USER = "alice"
PASSWORD = USERS[USER][0]
POP3D_ID = re.compile(r"^[0-9a-f]{32}$")
# Mail delivered after the switch: From_ dates a day after every fixture's
# (Nov 30 2026), so a time zone cannot move them across the cut-off.
SWITCH = "2026-12-01 00:00:00"
NEW_DATE = "Tue Dec  1 12:00:{:02d} 2026"


def new_mail(n):
    """Two messages an MDA appends after the switch (distinct Received lines,
    so popa3d's formula would not repeat an old id either)."""
    return b"".join(msg(f"new{i}@example.org", NEW_DATE.format(i), [
        f"Received: from new.example.org by host.example.net id NEW{n}{i}; Tue, 1 Dec 2026 12:00:{i:02d} +0000",
        f"Message-ID: <new{n}.{i}@example.org>", f"Subject: new {n}.{i}"], f"new body {i}\n".encode())
        for i in (1, 2))


def client_mailbox():
    """What the user left on the old server: five ordinary messages."""
    return b"".join(msg(f"old{i}@example.org", f"Mon Nov 30 09:00:{i:02d} 2026", [
        f"Received: from mx.example.org by host.example.net id OLD{i}; Mon, 30 Nov 2026 09:00:{i:02d} +0000",
        f"Message-ID: <old{i}@example.org>", f"Subject: old {i}"], f"old body {i}\n".encode())
        for i in range(1, 6))


def unique(ids):
    """pop3d's rule for repeated ids: the first keeps the bare id, the next
    ones get .2, .3, ... (popa3d itself listed the repeats as they were)."""
    seen, out = {}, []
    for i in ids:
        seen[i] = seen.get(i, 0) + 1
        out.append(i if seen[i] == 1 else f"{i}.{seen[i]}")
    return out


def make_peer(cls, workdir):
    if cls is Popa3dPeer:
        return Popa3dPeer(workdir, USER, PASSWORD)  # popa3d logs in itself, through PAM
    return cls(workdir)


class PeerCase(unittest.TestCase):
    """One pop3d Env (inetd-style, as the other integration tests) shared by
    the class; each test makes its peers in scratch dirs."""

    @classmethod
    def setUpClass(cls):
        cls.env = Env(pam_mode=os.environ.get("POP3D_PAM_MODE", "wrapper"))
        cls.env.start()

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def peer(self, cls):
        d = scratch(cls.name)
        self.addCleanup(shutil.rmtree, d, True)
        try:
            return make_peer(cls, d)
        except PeerUnavailable as e:
            self.skipTest(f"{cls.name}: {e}")

    def compat(self, mode, until=None):
        """Sets uidl_compat (and uidl_compat_until, or removes it). "none"
        leaves the key out: it is the default, and so the pop3d side of
        the checks that need no compat ids runs before the key exists."""
        for key in ("uidl_compat", "uidl_compat_until"):
            self.env.settings.pop(key, None)
        if mode != "none":
            self.env.settings["uidl_compat"] = mode
        if until:
            self.env.settings["uidl_compat_until"] = until
        self.env.write_config()

    def pop3d_ids(self, mode, data, until=None):
        """pop3d's UIDL on data with uidl_compat = mode."""
        self.compat(mode, until)
        self.env.write_mailbox(USER, data)
        try:
            with Raw(self.env.port) as c:
                reply = c.login(USER, PASSWORD)
                self.assertTrue(reply.startswith(b"+OK"), f"uidl_compat = {mode}: {reply!r}")
                status, body = c.multiline("UIDL")
                self.assertTrue(status.startswith(b"+OK"), status)
                c.cmd("QUIT")
        except (EOFError, ConnectionError) as e:
            self.fail(f"pop3d with uidl_compat = {mode}: {e} (log: {self.env.log_text()[-300:]!r})")
        self.env.wait_sessions_ended()
        return [line.split(b" ", 1)[1].decode() for line in body.split(b"\r\n")[:-2]]


def served(peer, data):
    """The peer's UIDL on data, and the mailbox as the peer left it."""
    ids = [i for _, i in peer.uidl(data)]
    with open(peer.mailbox(), "rb") as f:
        return ids, f.read()


# Which pop3d message is which peer message, where the two split a fixture
# differently (notes/uidl_compat.md 1.2, 2.3, 3.3; pop3d: DESIGN "The mbox
# format": a From_ line after any LF starts a message, a consistent
# Content-Length delimits the body, "\r\n" is an empty line). Each entry:
# fixture -> function(peer ids) -> expected pop3d ids, None where pop3d's
# message is no peer message (any id of pop3d's then).
POPA3D_SPLIT = {
    # popa3d ignores Content-Length and splits at the inner "From " line
    # after an empty line: 3 messages, pop3d's 2 are popa3d's 1st and 3rd
    # (same headers, so the same popa3d id).
    "content-length-from": lambda p: [p[0], p[2]],
    "content-length-valid-from": lambda p: [p[0], p[2]],
    # popa3d needs an empty line before From_: its one message is pop3d's
    # first (same header); pop3d's second was never listed by popa3d.
    "no-blank-before-from": lambda p: [p[0], None],
    # "\r\n" is not empty for popa3d: one message whose header runs on; its
    # id is that of pop3d's first message (first Received line, CR kept).
    "crlf": lambda p: [p[0], None],
}
UW_SPLIT = {
    # c-client hides \Deleted (X-Status: D) messages and renumbers; pop3d
    # lists the first message (ipop3d never did).
    "imap-deleted": lambda u: [None, *u],
}


class IdenticalIds(PeerCase):
    served = {}  # peer name -> [(fixture, peer's ids, mailbox as the peer left it)], once per run

    def fixtures(self, peer_cls, splits):
        """[(fixture, mailbox as the peer left it, expected pop3d ids)]; the
        peer runs once per class and peer."""
        if peer_cls.name not in self.served:
            peer = self.peer(peer_cls)
            self.served[peer_cls.name] = [(name, *served(peer, data)) for name, data in FIXTURES.items()]
        out = []
        for name, peer_ids, left in self.served[peer_cls.name]:
            expected = splits.get(name, lambda p: p)(peer_ids)
            if name == "pseudo" and peer_cls is not Popa3dPeer:
                expected = [None, *expected]  # the X-IMAP message, if pop3d lists it: test_pseudo_*
            out.append((name, left, expected))
        return out

    def check_split(self, peer_cls, splits):
        """Passes without uidl_compat: pop3d's messages are the peer's as the
        mapping says (same count; the peer side of the identity tests)."""
        for name, left, expected in self.fixtures(peer_cls, splits):
            with self.subTest(fixture=name):
                own = self.pop3d_ids("none", left)
                if name == "pseudo" and len(own) == len(expected) - 1:
                    expected = expected[1:]  # pop3d hides it already
                self.assertEqual(len(own), len(expected), f"pop3d splits {name} as {peer_cls.name} does")

    def check(self, peer_cls, mode, splits):
        for name, left, expected in self.fixtures(peer_cls, splits):
            with self.subTest(fixture=name):
                got = self.pop3d_ids(mode, left)
                if name == "pseudo" and len(got) == len(expected) - 1:
                    expected = expected[1:]  # hidden, as test_pseudo_* asks
                want = unique(expected) if mode == "popa3d" else expected
                self.assertEqual(len(got), len(want))
                self.assertEqual([g if w is not None else None for g, w in zip(got, want)], want)

    def test_popa3d_split(self):
        self.check_split(Popa3dPeer, POPA3D_SPLIT)

    def test_dovecot_split(self):
        self.check_split(DovecotPeer, {})

    def test_uw_split(self):
        self.check_split(UwPeer, UW_SPLIT)

    def test_popa3d(self):
        # popa3d listed repeats as they were (tricky 1 = 2, 4 and 5 hash
        # nothing): pop3d gives the second of each ".2" (unique()).
        self.check(Popa3dPeer, "popa3d", POPA3D_SPLIT)

    def test_dovecot(self):
        # Dovecot splits like pop3d on every fixture (Content-Length
        # honoured, From_ lines after any LF).
        self.check(DovecotPeer, "dovecot", {})

    def test_uw(self):
        # c-client ignores Content-Length: on content-length-valid-from it
        # splits 3 where pop3d splits the fixture 2, but it rewrites the
        # file (X-UID into the inner message), after which pop3d splits 3
        # too (test_uw_split).
        self.check(UwPeer, "uw", UW_SPLIT)

    def test_popa3d_until(self):
        """uidl_compat_until: mail delivered after it gets pop3d's own ids;
        without it every message gets its popa3d id."""
        peer = self.peer(Popa3dPeer)
        old_ids, left = served(peer, FIXTURES["tricky"])
        # The MDA ends the last line and adds the blank line popa3d needs
        # before a From_ line (tricky's last message has neither).
        data = left + b"\n" * (2 - (len(left) - len(left.rstrip(b"\n")))) + new_mail(0)
        all_popa3d, _ = served(peer, data)  # popa3d's ids for the new ones too
        self.assertEqual(all_popa3d[:len(old_ids)], old_ids)
        own = self.pop3d_ids("none", data)
        self.assertTrue(all(POP3D_ID.match(i) for i in own[-2:]), own)
        self.assertEqual(self.pop3d_ids("popa3d", data, until=SWITCH), unique(old_ids) + own[-2:])
        self.assertEqual(self.pop3d_ids("popa3d", data), unique(all_popa3d))

    def test_pseudo_message_listed_with_pop3ds_id_the_rest_keep_theirs(self):
        # Dovecot and UW hide the X-IMAP "FOLDER INTERNAL DATA" message
        # (notes 2.3, 3.3); pop3d lists it (README: a client fetches it once
        # after the switch), with its own id; every other id is the peer's.
        for cls, mode in ((DovecotPeer, "dovecot"), (UwPeer, "uw")):
            with self.subTest(peer=cls.name):
                ids, left = served(self.peer(cls), FIXTURES["pseudo"])
                got = self.pop3d_ids(mode, left)
                self.assertRegex(got[0], POP3D_ID)
                self.assertEqual(got[1:], ids)


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class TcpServer:
    """socat on a fixed loopback port, one inetd-style process per
    connection (the old server, then pop3d, on the same host:port)."""

    def __init__(self, test, port, argv, env=None, cwd=None, pipes=True):
        self.dir = temp_dir(test, "pop3d-switch-")
        script = os.path.join(self.dir, "connection.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n" + (f"cd {shlex.quote(cwd)}\n" if cwd else ""))
            f.write("exec " + ("env -i " + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items()) + " "
                               if env is not None else "") + " ".join(map(shlex.quote, argv)) + "\n")
        os.chmod(script, 0o755)
        # pipes: Dovecot's pop3 refuses a socket on stdin ("must not be
        # started from inetd"); pop3d -i is given the socket itself.
        self.stderr = os.path.join(self.dir, "stderr")
        with open(self.stderr, "wb") as err:
            self.proc = subprocess.Popen(
                ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork",
                 f"EXEC:{script},{'pipes' if pipes else 'nofork'}"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        test.addCleanup(self.stop)
        # Ready once socat listens: a server that refuses its config (pop3d
        # before uidl_compat exists) then fails the client's run at once.
        if wait_for_server(lambda: listening(port), self.proc, 10) != "ready":
            raise AssertionError(f"no server on port {port}: {self.log()[-600:]}")

    def log(self):
        with open(self.stderr, errors="replace") as f:
            return f.read()

    def stop(self):
        """Waits for the connections' processes (the old server writes the
        mailbox at the end of a session), then stops socat."""
        deadline = time.monotonic() + 10
        children = f"/proc/{self.proc.pid}/task/{self.proc.pid}/children"
        while self.proc.poll() is None and time.monotonic() < deadline:
            try:
                with open(children) as f:
                    if not f.read().strip():
                        break
            except OSError:
                break
            time.sleep(0.05)
        stop_server(self.proc, 5)


@unittest.skipUnless(have("socat"), "socat not installed")
class ClientsAcrossTheSwitch(PeerCase):
    """fetchmail and getmail6 side by side, each with its own state."""

    def clients(self, port):
        work = temp_dir(self, "pop3d-clients-")
        os.chmod(work, 0o755)
        out = []
        if have("fetchmail"):
            out.append(("fetchmail", KeepingFetchmail(work, port, USER, PASSWORD)))
        if have("getmail"):
            out.append(("getmail", KeepingGetmail(work, port, USER, PASSWORD)))
        if not out:
            self.skipTest("neither fetchmail nor getmail6 installed")
        return out

    def fetch(self, clients):
        """{client: [subjects fetched]} of one run of every client."""
        got = {}
        for name, client in clients:
            r, msgs = client.run()
            self.assertIn(r.returncode, (0, 1), f"{name}: {r.stdout[-600:]!r} {r.stderr[-600:]!r}")
            got[name] = [re.search(rb"^Subject: (.*)$", m, re.M).group(1).decode() for m in msgs]
        return got

    def switch(self, peer_cls, mode, until=None):
        """Old server -> two deliveries -> pop3d on the same port; returns
        the subjects each client fetched in its 3 runs."""
        peer = self.peer(peer_cls)
        with open(peer.mailbox(), "wb") as f:
            f.write(client_mailbox())
        os.chmod(peer.mailbox(), 0o600)
        port = free_port()
        clients = self.clients(port)
        old = TcpServer(self, port, *peer.connection(USER, PASSWORD))
        before = self.fetch(clients)
        old.stop()
        with open(peer.mailbox(), "rb") as f:
            self.env.write_mailbox(USER, f.read() + new_mail(1))  # as the old server left it, + delivery
        self.compat(mode, until)
        TcpServer(self, port, [self.env.inetd_script()], pipes=False)
        return before, self.fetch(clients), self.fetch(clients)

    def assert_only_new_fetched(self, peer_cls, mode, until=None):
        before, after, again = self.switch(peer_cls, mode, until)
        for name in before:
            self.assertEqual(before[name], [f"old {i}" for i in range(1, 6)], name)
            self.assertEqual(after[name], ["new 1.1", "new 1.2"], f"{name}: only the mail delivered after the switch")
            self.assertEqual(again[name], [], name)

    def test_popa3d(self):
        self.assert_only_new_fetched(Popa3dPeer, "popa3d", until=SWITCH)

    def test_dovecot(self):
        self.assert_only_new_fetched(DovecotPeer, "dovecot")

    def test_uw(self):
        self.assert_only_new_fetched(UwPeer, "uw")

    def test_control_without_compat_everything_again(self):
        # The flow proves something: with pop3d's own ids the clients fetch
        # every kept message once more (the README's "without uidl_compat").
        for cls in (Popa3dPeer, DovecotPeer, UwPeer):
            with self.subTest(peer=cls.name):
                before, after, again = self.switch(cls, "none")
                for name in before:
                    self.assertEqual(len(before[name]), 5, name)
                    self.assertEqual(sorted(after[name]), sorted(before[name] + ["new 1.1", "new 1.2"]), name)
                    self.assertEqual(again[name], [], name)


if __name__ == "__main__":
    unittest.main()
