"""STLS (RFC 2595) and implicit TLS (RFC 8314), with OpenSSL: skipped, and
listed as skipped, when pop3d was built without it."""

import base64
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import unittest

from fixtures import simple
from harness import POP3D, Env, EnvTestCase, Raw, free_port, have

LAUNCHERS = ["tcpserver", "socat", "systemd-socket-activate", "threads", "fork", "activate-listen",
             "activate-accept"]


def tls_built_in():
    r = subprocess.run([POP3D, "-V"], capture_output=True, text=True)
    return "(TLS: none)" not in r.stdout


def require_tls():
    if not tls_built_in():
        raise unittest.SkipTest("pop3d built without TLS (./configure --with-openssl)")
    if not have("openssl"):
        raise unittest.SkipTest("the openssl command is not installed")


def make_cert(directory, cn="localhost"):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", f"/CN={cn}", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def client_context(cert, **kw):
    ctx = ssl.create_default_context(cafile=cert)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def wrap(ctx, sock):
    # A TCP close without close_notify raises instead of reading as EOF.
    return ctx.wrap_socket(sock, server_hostname="localhost", suppress_ragged_eofs=False)


def b64plain(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def starttls(c, cert, **kw):
    """STLS on a Raw client; returns the +OK line."""
    reply = c.cmd("STLS")
    if reply.startswith(b"+OK"):
        assert c.buf == b"", "plaintext after the STLS answer"
        c.sock = wrap(client_context(cert, **kw), c.sock)
    return reply


def implicit(port, cert, **kw):
    """A Raw client on an implicit-TLS port."""
    sock = wrap(client_context(cert, **kw), socket.create_connection(("127.0.0.1", port), timeout=10))
    c = Raw.__new__(Raw)
    c.sock, c.buf = sock, b""
    c.greeting = c.line()
    return c


def tls_probe(cert):
    def probe(port):
        implicit(port, cert).close()
        return True
    return probe


def caps(c):
    _, body = c.multiline("CAPA")
    return body.split(b"\r\n")[:-2]


def thunderbird(test, c, cert, starttls_first=True):
    """CAPA, STLS, CAPA, AUTH PLAIN without initial response, UIDL, TOP n 0,
    RETR, QUIT, as Thunderbird does; then a clean TLS close."""
    if starttls_first:
        test.assertIn(b"STLS", caps(c))
        test.assertEqual(starttls(c, cert), b"+OK begin TLS negotiation")
    after = caps(c)
    test.assertNotIn(b"STLS", after)
    test.assertIn(b"SASL PLAIN", after)
    test.assertEqual(c.cmd("AUTH PLAIN"), b"+ ")
    test.assertTrue(c.cmd(b64plain("alice", "secret")).startswith(b"+OK maildrop has 3 messages"))
    _, uidl = c.multiline("UIDL")
    test.assertEqual(len(uidl.split(b"\r\n")) - 2, 3)
    _, top = c.multiline("TOP 1 0")
    test.assertEqual(top, b"Subject: msg 1\r\nMessage-ID: <msg1@x>\r\n\r\n.\r\n")
    _, retr = c.multiline("RETR 2")
    test.assertEqual(retr, b"Subject: msg 2\r\nMessage-ID: <msg2@x>\r\n\r\nbody of msg 2\r\n.\r\n")
    test.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
    # RFC 8314 §3.4: close_notify before the TCP close (an abrupt close raises here).
    test.assertEqual(c.sock.recv(100), b"")


class TlsEnvTestCase(EnvTestCase):
    """An Env with a certificate; STLS offered."""
    tls_config = {}

    @classmethod
    def setUpClass(cls):
        require_tls()
        super().setUpClass()
        cls.cert, cls.key = make_cert(cls.env.dir)
        cls.env.write_config(tls_cert=cls.cert, tls_key=cls.key, **cls.tls_config)
        cls.env.write_mailbox("alice", simple(3))


class StlsTest(TlsEnvTestCase):
    def setUp(self):
        self.env.write_mailbox("alice", simple(3))

    def test_capa_before_and_after_tls(self):
        # CONFORMANCE: R2595-STLS-1, R2595-STLS-4
        c = self.connect()
        before = caps(c)
        self.assertIn(b"STLS", before)
        starttls(c, self.cert)
        after = caps(c)
        self.assertNotIn(b"STLS", after)
        self.assertTrue(set(before) - {b"STLS"} <= set(after))

    def test_session_stays_in_authorization_after_stls(self):
        # CONFORMANCE: R2595-STLS-3
        c = self.connect()
        starttls(c, self.cert)
        self.assertEqual(c.cmd("STAT"), b"-ERR command not valid in this state")
        self.assertEqual(c.cmd("USER alice"), b"+OK send PASS")
        self.assertTrue(c.cmd("PASS secret").startswith(b"+OK"))
        self.assertIn("tls rip=127.0.0.1 TLSv1.3", self.env.log_text())

    def test_stls_under_tls_and_after_login(self):
        # CONFORMANCE: R2595-STLS-1, R2595-STLS-2
        c = self.connect()
        starttls(c, self.cert)
        self.assertEqual(c.cmd("STLS"), b"-ERR TLS is already active")
        c = self.connect()
        c.login()
        self.assertEqual(c.cmd("STLS"), b"-ERR command not valid in this state")
        self.assertNotIn(b"STLS", caps(c))

    def test_plaintext_pipelined_with_stls_never_runs_inside_tls(self):
        # CONFORMANCE: R2595-STLS-5
        # CVE-2011-0411: one write of STLS and USER; USER must be dropped.
        def stls_with(pipelined):
            c = self.connect()
            c.send("STLS\r\n" + pipelined)
            self.assertEqual(c.line(), b"+OK begin TLS negotiation")
            c.sock = wrap(client_context(self.cert), c.sock)
            c.buf = b""
            return c
        self.assertEqual(stls_with("USER alice\r\n").cmd("PASS secret"), b"-ERR send USER first")
        # And a CAPA sent with STLS gets no answer inside TLS.
        self.assertEqual(stls_with("CAPA\r\n").cmd("NOOP"), b"-ERR command not valid in this state")

    def test_thunderbird_style_session(self):
        # CONFORMANCE: R5034-AUTH-2, R8314-ITLS-2
        thunderbird(self, self.connect(), self.cert)

    def test_tls_1_1_is_refused(self):
        # CONFORMANCE: R8314-TLS-3
        c = self.connect()
        with self.assertRaises((ssl.SSLError, OSError)):
            starttls(c, self.cert, minimum_version=ssl.TLSVersion.TLSv1, maximum_version=ssl.TLSVersion.TLSv1_1)

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_openssl_s_client_starttls(self):
        r = subprocess.run(["openssl", "s_client", "-starttls", "pop3", "-connect", f"127.0.0.1:{self.env.port}",
                            "-CAfile", self.cert, "-quiet", "-verify_return_error"],
                           input=b"CAPA\nUSER alice\nPASS secret\nSTAT\nQUIT\n", capture_output=True, timeout=30)
        out = r.stdout.decode()
        self.assertIn("+OK maildrop has 3 messages", out)
        self.assertIn("+OK 3 ", out)
        self.assertNotIn("STLS", out)

    @unittest.skipUnless(have("curl"), "curl not installed")
    def test_curl_ssl_reqd(self):
        r = subprocess.run(["curl", "-s", "--ssl-reqd", "--cacert", self.cert, "-u", "alice:secret",
                            f"pop3://localhost:{self.env.port}/2"], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"Subject: msg 2\r\nMessage-ID: <msg2@x>\r\n\r\nbody of msg 2\r\n")


class ImplicitTlsTest(unittest.TestCase):
    """pop3s (RFC 8314): the daemon with a /tls listener."""

    @classmethod
    def setUpClass(cls):
        require_tls()
        cls.env = Env()
        cls.cert, cls.key = make_cert(cls.env.dir)
        cls.env.write_config(tls_cert=cls.cert, tls_key=cls.key)
        cls.env.write_mailbox("alice", simple(3))
        cls.tls_port = free_port()
        cls.env.start("threads", extra_args=["-l", f"127.0.0.1:{cls.tls_port}/tls"])

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def setUp(self):
        self.env.write_mailbox("alice", simple(3))

    def test_handshake_then_greeting_then_authorization(self):
        # CONFORMANCE: R8314-ITLS-1
        c = implicit(self.tls_port, self.cert)
        self.assertTrue(c.greeting.startswith(b"+OK"))
        self.assertEqual(c.cmd("STAT"), b"-ERR command not valid in this state")
        self.assertNotIn(b"STLS", caps(c))
        thunderbird(self, c, self.cert, starttls_first=False)

    def test_plain_tcp_to_the_tls_port_gets_no_plaintext(self):
        # CONFORMANCE: R8314-ITLS-1
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10) as s:
            s.sendall(b"CAPA\r\n")
            data = b""
            try:
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionResetError, socket.timeout):
                pass
        self.assertNotIn(b"+OK", data)

    @unittest.skipUnless(have("curl"), "curl not installed")
    def test_curl_pop3s(self):
        r = subprocess.run(["curl", "-s", "--cacert", self.cert, "-u", "alice:secret",
                            f"pop3s://localhost:{self.tls_port}/"], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"1 55\r\n2 55\r\n3 55\r\n")

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_openssl_s_client(self):
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.tls_port}", "-CAfile", self.cert,
                            "-quiet", "-verify_return_error"], input=b"CAPA\nQUIT\n", capture_output=True, timeout=30)
        self.assertIn(b"+OK POP3 server ready", r.stdout)
        self.assertIn(b"SASL PLAIN", r.stdout)

    def test_client_certificate_changes_nothing(self):
        # CONFORMANCE: R8314-ITLS-1, R2595-STLS-3
        ctx = client_context(self.cert)
        ctx.load_cert_chain(self.cert, self.key)  # any certificate: pop3d asks for none and trusts none
        sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.tls_port), timeout=10),
                               server_hostname="localhost")
        c = Raw.__new__(Raw)
        c.sock, c.buf = sock, b""
        c.greeting = c.line()
        self.assertEqual(c.cmd("STAT"), b"-ERR command not valid in this state")


class PlaintextPolicyTest(unittest.TestCase):
    """With TLS configured, passwords cross the network only inside TLS
    (RFC 2595 §2.3), except on loopback or when the admin allows it."""

    @staticmethod
    def outside_address():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.connect(("192.0.2.1", 9))  # no packet is sent
                addr = s.getsockname()[0]
            except OSError:
                return None
        return None if addr.startswith("127.") else addr

    def setUp(self):
        require_tls()
        self.addr = self.outside_address()
        if not self.addr:
            self.skipTest("no non-loopback address on this host")
        self.env = Env()
        self.addCleanup(self.env.close)
        self.cert, self.key = make_cert(self.env.dir)
        self.env.write_config(tls_cert=self.cert, tls_key=self.key)
        self.env.write_mailbox("alice", simple(1))
        self.port = free_port()
        self.env.start("threads", extra_args=["-l", f"{self.addr}:{self.port}"],
                       probe=lambda p: socket.create_connection((self.addr, self.port), timeout=1).close() or True)

    def outside(self):
        c = Raw.__new__(Raw)
        c.sock, c.buf = socket.create_connection((self.addr, self.port), timeout=10), b""
        c.greeting = c.line()
        return c

    def test_no_plaintext_login_before_tls_from_outside(self):
        # CONFORMANCE: R5034-PLAIN-2, R1939-USER-3
        c = self.outside()
        before = caps(c)
        self.assertNotIn(b"USER", before)
        self.assertNotIn(b"SASL PLAIN", before)
        self.assertIn(b"STLS", before)
        self.assertEqual(c.cmd("USER alice"), b"-ERR [AUTH] plaintext authentication needs TLS: use STLS first")
        self.assertEqual(c.cmd("AUTH PLAIN " + b64plain("alice", "secret")),
                         b"-ERR [AUTH] plaintext authentication needs TLS: use STLS first")
        starttls(c, self.cert, check_hostname=False)
        after = caps(c)
        self.assertIn(b"USER", after)
        self.assertIn(b"SASL PLAIN", after)
        self.assertTrue(c.login().startswith(b"+OK"))

    def test_admin_may_allow_plaintext(self):
        # CONFORMANCE: R5034-PLAIN-2 (configurable)
        self.env.stop()
        self.env.write_config(allow_plaintext_auth="yes")
        self.env.start("threads", extra_args=["-l", f"{self.addr}:{self.port}"],
                       probe=lambda p: socket.create_connection((self.addr, self.port), timeout=1).close() or True)
        c = self.outside()
        self.assertIn(b"USER", caps(c))
        self.assertTrue(c.login().startswith(b"+OK"))


class EveryLaunchModeTest(unittest.TestCase):
    """The Thunderbird-style session (STLS) and pop3s in every launch mode."""

    def setUp(self):
        require_tls()

    def session_in(self, launcher, implicit_tls):
        tool = {"tcpserver": "tcpserver", "socat": "socat"}.get(launcher, "systemd-socket-activate")
        if launcher not in ("threads", "fork") and not have(tool):
            self.skipTest(f"{tool} not installed")
        env = Env()
        self.addCleanup(env.close)
        cert, key = make_cert(env.dir)
        env.write_config(tls_cert=cert, tls_key=key)
        env.write_mailbox("alice", simple(3))
        if not implicit_tls:
            env.start(launcher)
            thunderbird(self, Raw(env.port), cert)
            return
        probe = tls_probe(cert)
        if launcher in ("threads", "fork"):
            port = free_port()
            env.start(launcher, extra_args=["-l", f"127.0.0.1:{port}/tls"])
        elif launcher in ("activate-listen", "activate-accept"):
            env.start(launcher, fdname="pop3s", probe=probe)
            port = env.port
        else:
            env.write_config(implicit_tls="yes")
            env.start(launcher, probe=probe)
            port = env.port
        thunderbird(self, implicit(port, cert), cert, starttls_first=False)

    def test_stls_session(self):
        for launcher in LAUNCHERS:
            with self.subTest(launcher=launcher):
                self.session_in(launcher, implicit_tls=False)

    def test_implicit_tls_session(self):
        for launcher in LAUNCHERS:
            with self.subTest(launcher=launcher):
                self.session_in(launcher, implicit_tls=True)


class TlsConfigTest(unittest.TestCase):
    def setUp(self):
        require_tls()
        self.env = Env()
        self.addCleanup(self.env.close)
        self.env.write_config(pid_file=os.path.join(self.env.dir, "pop3d.pid"))  # pop3d -t checks it: not /run
        self.cert, self.key = make_cert(self.env.dir)

    def test_check_mode_reports_unreadable_files(self):
        r = subprocess.run([POP3D, "-t", "-c", self.env.conf, "-o", f"pam_confdir={self.env.pam_dir}",
                            "-o", f"tls_cert={self.cert}", "-o", "tls_key=/nonexistent/key.pem"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("error: TLS: private key /nonexistent/key.pem", r.stdout)
        r = subprocess.run([POP3D, "-t", "-c", self.env.conf, "-o", f"pam_confdir={self.env.pam_dir}",
                            "-o", f"tls_cert={self.cert}", "-o", f"tls_key={self.key}"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("TLS certificate", r.stdout)

    def test_daemon_refuses_to_start_with_a_bad_key(self):
        r = subprocess.run([POP3D, "-f", "-c", self.env.conf, "-l", f"127.0.0.1:{free_port()}",
                            "-o", f"tls_cert={self.cert}", "-o", f"tls_key={self.cert}"], capture_output=True,
                           text=True, timeout=30, env=self.env.environment())
        self.assertEqual(r.returncode, 1)
        self.assertIn("TLS:", r.stderr)

    def test_sighup_reloads_the_certificate(self):
        self.env.write_config(tls_cert=self.cert, tls_key=self.key)
        self.env.write_mailbox("alice", simple(1))
        self.env.start("threads")
        c = Raw(self.env.port)
        starttls(c, self.cert)
        old = c.sock.getpeercert()["subject"]
        new_cert, new_key = make_cert(os.path.join(self.env.dir, "pam.d"), cn="renewed")
        shutil.copy(new_cert, self.cert)
        shutil.copy(new_key, self.key)
        os.kill(self.env.daemon_pid(), signal.SIGHUP)
        deadline = time.time() + 10
        while "configuration reloaded" not in self.env.log_text() and time.time() < deadline:
            time.sleep(0.05)
        c2 = Raw(self.env.port)
        starttls(c2, self.cert, check_hostname=False)
        self.assertNotEqual(c2.sock.getpeercert()["subject"], old)
        self.assertIn(((("commonName", "renewed"),)), c2.sock.getpeercert()["subject"])
        self.assertEqual(c.cmd("NOOP"), b"-ERR command not valid in this state")  # the old session goes on


if __name__ == "__main__":
    unittest.main()
