"""A real HAProxy (Debian's haproxy, on loopback ports) in front of two
pop3d instances, one threaded and one forking: send-proxy (v1) to one,
send-proxy-v2 to the other, with health checks. Clients connect from
127.0.0.5 and 127.0.0.6; HAProxy reaches pop3d from 127.0.0.2, the only
trusted balancer. A backend that connects from elsewhere stands for a
balancer pop3d does not trust (from 127.0.0.9)."""

import os
import re
import signal
import socket
import subprocess
import time
import unittest

from fixtures import simple
from harness import Env, Raw, free_port, have, wait_for

CONFIG = {"proxy_trusted": "127.0.0.2", "max_connections_per_address": "1", "login_fail_delay": "0"}


@unittest.skipUnless(have("haproxy"), "haproxy not installed")
class HaproxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        pam_mode = os.environ.get("POP3D_PAM_MODE", "wrapper")
        cls.a = Env(pam_mode=pam_mode, config=CONFIG)
        cls.b = Env(pam_mode=pam_mode, config=CONFIG)
        cls.haproxy = None
        try:
            cls.a.start("threads")
            cls.b.start("fork")
            cls.v1_port, cls.v2_port, cls.untrusted_port = free_port(), free_port(), free_port()
            cfg = os.path.join(cls.a.dir, "haproxy.cfg")
            with open(cfg, "w") as f:
                f.write(f"""global
    maxconn 200
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend v1
    bind 127.0.0.1:{cls.v1_port}
    default_backend to_a
frontend v2
    bind 127.0.0.1:{cls.v2_port}
    default_backend to_b
frontend untrusted
    bind 127.0.0.1:{cls.untrusted_port}
    default_backend from_elsewhere
backend to_a
    server a 127.0.0.1:{cls.a.port} send-proxy source 127.0.0.2
backend to_b
    server b 127.0.0.1:{cls.b.port} send-proxy-v2 source 127.0.0.2 check check-send-proxy inter 1s
backend from_elsewhere
    server a 127.0.0.1:{cls.a.port} send-proxy source 127.0.0.9
""")
            cls.haproxy_log = open(os.path.join(cls.a.dir, "haproxy.out"), "wb")
            cls.haproxy = subprocess.Popen(["haproxy", "-f", cfg, "-db"], stdout=cls.haproxy_log,
                                           stderr=subprocess.STDOUT, start_new_session=True)

            def frontends_up():
                for port in (cls.v1_port, cls.v2_port):
                    try:
                        with socket.create_connection(("127.0.0.1", port), timeout=1):
                            pass
                    except OSError:
                        return False
                return True
            if not wait_for(frontends_up, timeout=10):
                raise RuntimeError("haproxy did not start: " + open(cls.haproxy_log.name, errors="replace").read())
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.haproxy is not None:
            if cls.haproxy.poll() is None:
                os.killpg(cls.haproxy.pid, signal.SIGTERM)
            cls.haproxy.wait()
            cls.haproxy_log.close()
        cls.a.close()
        cls.b.close()

    def client(self, port, source="127.0.0.5"):
        c = Raw(port, source=source)  # a client of HAProxy's frontend, from its own loopback address
        self.addCleanup(c.close)
        return c

    def test_logins_through_both_protocol_versions_show_the_client(self):
        for env, port, other in ((self.a, self.v1_port, "127.0.0.6"), (self.b, self.v2_port, "127.0.0.6")):
            env.write_mailbox("alice", simple(3))
            c = self.client(port, other)
            self.assertTrue(c.greeting.startswith(b"+OK"), c.greeting)
            self.assertTrue(c.login().startswith(b"+OK"))
            self.assertTrue(c.cmd("STAT").startswith(b"+OK 3 "))
            c.cmd("QUIT")
            self.assertTrue(wait_for(lambda: "login user=alice rip=127.0.0.6 " in env.log_text()))
            self.assertIn("connect rip=127.0.0.6 proxy=127.0.0.2", env.log_text())

    def test_per_address_limit_counts_the_client_behind_haproxy(self):
        for env, port in ((self.a, self.v1_port), (self.b, self.v2_port)):
            first = self.client(port, "127.0.0.5")
            self.assertTrue(first.greeting.startswith(b"+OK"))
            second = self.client(port, "127.0.0.5")
            self.assertEqual(second.greeting, b"-ERR [SYS/TEMP] too many connections from your address, try again later")
            # Another client through the same balancer (not 127.0.0.6, whose
            # session in the test before may still hold its slot a moment).
            other = self.client(port, "127.0.0.7")
            self.assertTrue(other.greeting.startswith(b"+OK"), other.greeting)
            self.assertTrue(wait_for(lambda: "refused rip=127.0.0.5 proxy=127.0.0.2 reason=max_connections_per_address"
                                     in env.log_text()))
            for c in (first, other):
                c.cmd("QUIT")
                c.read_to_eof()

    def test_health_checks_pass_without_warnings_or_empty_sessions(self):
        # check-send-proxy, every second: HAProxy connects, may send a
        # header, and resets the connection, often before pop3d accepts it.
        # HAProxy must see the server up; pop3d must neither warn nor start
        # a session for a connection that is already gone.
        time.sleep(3.5)
        log, haproxy = self.b.log_text(), open(self.haproxy_log.name, errors="replace").read()
        self.assertNotIn("is DOWN", haproxy)
        self.assertNotIn("PROXY header refused", log)
        self.assertNotIn("rip=unknown", log)

    def test_a_header_from_an_untrusted_balancer_is_refused(self):
        c = self.client(self.untrusted_port)
        # pop3d greets (127.0.0.1 is an ordinary client), then sees a PROXY header and hangs up.
        self.assertTrue(c.greeting.startswith(b"+OK"), c.greeting)
        self.assertEqual(c.read_to_eof(), b"")
        self.assertTrue(wait_for(lambda: "PROXY header refused rip=127.0.0.9: not sent by an address in proxy_trusted"
                                 in self.a.log_text()), self.a.log_text()[-3000:])
        self.assertNotIn("rip=127.0.0.5 proxy=127.0.0.9", self.a.log_text())


if __name__ == "__main__":
    unittest.main()
