"""What an admin types first: pop3d --version and --help, the hints a
configuration mistake gets from pop3d -t, and make help."""

import os
import re
import subprocess
import tempfile
import unittest

from harness import POP3D, ROOT
from test_man_pages import make_database


def pop3d(*args):
    return subprocess.run([POP3D, *args], capture_output=True, text=True)


class LongOptionTest(unittest.TestCase):
    def test_version_and_help_are_the_same_as_v_and_h(self):
        for short, long in (("-V", "--version"), ("-h", "--help")):
            with self.subTest(option=long):
                r, expected = pop3d(long), pop3d(short)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr, "")
                self.assertEqual(r.stdout, expected.stdout)
        self.assertRegex(pop3d("--version").stdout, r"^pop3d \d+\.\d+\.\d+ \(TLS: [^)]+\)\n$")

    def test_help_lists_the_long_options(self):
        usage = pop3d("-h").stdout
        self.assertRegex(usage, r"\n  -V, --version +print the version and exit\n")
        self.assertRegex(usage, r"\n  -h, --help +print this help and exit\n")

    def test_an_unknown_long_option_is_named(self):
        r = pop3d("--verbose")
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith("pop3d: unknown option: --verbose\nusage: pop3d"), r.stderr)


class ConfigHintTest(unittest.TestCase):
    def check(self, text):
        """pop3d -t on a file holding text: its exit status and every line it wrote."""
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write(text)
        self.addCleanup(os.unlink, f.name)
        r = pop3d("-t", "-c", f.name)
        return r.returncode, f.name, r.stdout + r.stderr

    def test_a_comment_after_a_value_is_refused_with_a_hint(self):
        rc, name, out = self.check("# fine\nidle_timeout = 900 # 15 minutes\n")
        self.assertEqual(rc, 1)
        self.assertIn(f"{name}:2: idle_timeout: '900 # 15 minutes' has a comment after the value: "
                      "a comment needs a line of its own", out)
        rc, name, out = self.check("mailbox = /var/mail/%u   # the default\n")  # a string would take it whole
        self.assertEqual(rc, 1)
        self.assertIn(f"{name}:1: mailbox: ", out)
        self.assertIn("a comment needs a line of its own", out)

    def test_an_unknown_key_gets_a_did_you_mean(self):
        rc, name, out = self.check("idel_timeout = 900\nmax_connection = 5\nfrobnicate = 1\n")
        self.assertEqual(rc, 1)
        self.assertIn(f"{name}:1: unknown key 'idel_timeout' (did you mean 'idle_timeout'?)", out)
        self.assertIn(f"{name}:2: unknown key 'max_connection' (did you mean 'max_connections'?)", out)
        self.assertIn(f"{name}:3: unknown key 'frobnicate'\n", out)


class MakeHelpTest(unittest.TestCase):
    def test_make_help_lists_every_phony_target(self):
        targets = make_database(".PHONY: ")
        self.assertGreaterEqual(len(targets), 20)
        r = subprocess.run(["make", "-s", "-C", ROOT, "help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        listed = set(re.findall(r"^make(?:, make)? ([a-z][a-z-]*)", r.stdout, re.M))
        for target in targets:
            self.assertIn(target, listed, f"make help does not list {target}")
        for line in r.stdout.splitlines():
            self.assertLessEqual(len(line), 80, line)


if __name__ == "__main__":
    unittest.main()
