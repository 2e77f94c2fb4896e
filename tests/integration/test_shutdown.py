"""SIGTERM tells every client why its connection ends, in every launch mode:
a session waiting to log in, one idle with a deletion pending, and one in
the middle of a long RETR with more commands pipelined behind it each get
"-ERR [SYS/TEMP] server shutting down" as their last line; nothing is
expunged."""

import os
import signal
import socket
import time
import unittest

from fixtures import simple
from harness import Env, Raw, have, mbox_message, wait_for
from test_auth import pop3d_children_of

SHUTDOWN = b"-ERR [SYS/TEMP] server shutting down, try again later"
TOOLS = {"tcpserver": "tcpserver", "socat": "socat", "systemd-socket-activate": "systemd-socket-activate",
         "activate-listen": "systemd-socket-activate", "activate-accept": "systemd-socket-activate"}
# Far more than the socket buffers hold (the client's is held at 64 KiB):
# the RETR is still being sent when the signal comes.
BIG_BODY = b"".join(b"line %07d of a message larger than the socket buffers\n" % i for i in range(300000))


def parent_pid(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def signal_pop3d(env):
    """SIGTERM to the daemon, or to each pop3d -i under an inetd-style
    launcher: every pop3d of this env whose parent is not one (a forked
    session hears it from its daemon)."""
    pids = pop3d_children_of(env)
    roots = [p for p in pids if parent_pid(p) not in pids]
    for pid in roots:
        os.kill(pid, signal.SIGTERM)
    return roots


class ShutdownTellsClientsTest(unittest.TestCase):
    def check_launcher(self, launcher):
        tool = TOOLS.get(launcher)
        if tool and not have(tool):
            self.skipTest(f"{tool} not installed")
        env = Env()
        self.addCleanup(env.close)
        alice = simple(2)
        bob = mbox_message("big@x", "Thu Nov 26 10:00:00 2026", ["Subject: big"], BIG_BODY)
        env.write_mailbox("alice", alice)
        env.write_mailbox("bob", bob)
        env.start(launcher)

        waiting = Raw(env.port, timeout=30)  # greeted, not logged in
        self.addCleanup(waiting.close)
        idle = Raw(env.port, timeout=30)
        self.addCleanup(idle.close)
        self.assertTrue(idle.login("alice").startswith(b"+OK"))
        self.assertEqual(idle.cmd("DELE 1"), b"+OK message 1 deleted")
        busy = Raw(env.port, timeout=30)
        self.addCleanup(busy.close)
        busy.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        self.assertTrue(busy.login("bob").startswith(b"+OK"))
        busy.send("RETR 1\r\nDELE 1\r\nQUIT\r\n")  # the DELE and QUIT must not run after the stop
        self.assertRegex(busy.line(), rb"^\+OK \d+ octets$")  # the server is inside the RETR now

        self.assertTrue(signal_pop3d(env))
        self.assertEqual(waiting.read_to_eof(), SHUTDOWN + b"\r\n")
        self.assertEqual(idle.read_to_eof(), SHUTDOWN + b"\r\n")
        rest = busy.read_to_eof()
        self.assertTrue(rest.endswith(b"\r\n.\r\n" + SHUTDOWN + b"\r\n"), rest[-200:])  # the whole message first
        self.assertEqual(rest.count(b"\r\n") - 2, BIG_BODY.count(b"\n") + 2)  # Subject, blank line, body

        self.assertEqual(env.read_mailbox("alice"), alice)  # no expunge: the DELE is dropped
        self.assertEqual(env.read_mailbox("bob"), bob)
        self.assertTrue(wait_for(lambda: env.log_text().count("reason=shutdown") == 3), env.log_text())

    def test_tcpserver(self):
        self.check_launcher("tcpserver")

    def test_socat(self):
        self.check_launcher("socat")

    def test_systemd_socket_activate(self):
        self.check_launcher("systemd-socket-activate")

    def test_threads(self):
        self.check_launcher("threads")

    def test_fork(self):
        self.check_launcher("fork")

    def test_activate_listen(self):
        self.check_launcher("activate-listen")

    def test_activate_accept(self):
        self.check_launcher("activate-accept")


class ShutdownTellsProxiedClientsTest(unittest.TestCase):
    """A connection from a trusted balancer whose PROXY header is not all
    there yet has no session, but its client gets the same line."""

    def check_launcher(self, launcher):
        env = Env(config={"proxy_trusted": "127.0.0.2", "proxy_timeout": "30"})
        self.addCleanup(env.close)
        env.start(launcher)
        pid = env.daemon_pid()
        s = socket.create_connection(("127.0.0.1", env.port), timeout=30, source_address=("127.0.0.2", 0))
        self.addCleanup(s.close)
        s.sendall(b"PROXY TCP4 192.0.2.9 ")
        self.assertTrue(wait_for(lambda: accepted(s)))  # the daemon waits for the rest of the header now
        os.kill(pid, signal.SIGTERM)
        got = b""
        while chunk := s.recv(4096):
            got += chunk
        self.assertEqual(got, SHUTDOWN + b"\r\n")

    def test_threads(self):
        self.check_launcher("threads")

    def test_fork(self):
        self.check_launcher("fork")


class GraceOverTest(unittest.TestCase):
    """A session still busy when shutdown_grace is over (an expunge slowed
    by the test hook): the daemon logs it and exits 0 at once, without
    freeing what the session still uses (no crash, no hang)."""

    def test_threads(self):
        env = Env(config={"shutdown_grace": "1"})
        self.addCleanup(env.close)
        env.extra_env = {"POP3D_TEST_EXPUNGE_PAUSE_MS": "1500"}
        env.write_mailbox("alice", simple(2))
        env.start("threads")
        c = Raw(env.port, timeout=30)
        self.addCleanup(c.close)
        self.assertTrue(c.login("alice").startswith(b"+OK"))
        self.assertEqual(c.cmd("DELE 1"), b"+OK message 1 deleted")
        c.send("QUIT\r\n")  # the expunge sleeps 1.5 s after each step
        time.sleep(0.5)  # the session is inside the expunge now
        os.kill(env.daemon_pid(), signal.SIGTERM)
        self.assertEqual(env.server.wait(timeout=30), 0)
        env.server = None
        log = env.log_text()
        self.assertIn("grace period over: 1 session still running; exiting", log)
        self.assertNotIn(": stopped", log)


def accepted(client):
    """Whether the server has accept()ed this IPv4 loopback connection: its
    end of it has an inode (0 while it waits in the listen queue)."""
    def hex_address(address):
        return f"{socket.htonl(int.from_bytes(socket.inet_aton(address[0]), 'big')):08X}:{address[1]:04X}"
    want = (hex_address(client.getpeername()), hex_address(client.getsockname()))
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if (fields[1], fields[2]) == want:
                return fields[9] != "0"
    return False

if __name__ == "__main__":
    unittest.main()
