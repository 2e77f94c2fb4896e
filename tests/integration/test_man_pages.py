"""The man pages as an admin reads them: no line wider than an 80-column
terminal, in mandoc and in man (groff); the examples named where make
install puts them; every option of pop3d -h, long ones too, in pop3d(8)."""

import os
import re
import subprocess
import unittest

from harness import POP3D, ROOT, have

PAGES = ("pop3d.8", "pop3d.conf.5")
EXAMPLES = "/usr/share/doc/pop3d/examples"


def page_source(page):
    with open(os.path.join(ROOT, "man", page)) as f:
        return f.read()


def plain(output):
    """Rendered text without overstrikes (bold, underline) or SGR escapes."""
    text = re.sub(r".\x08", "", output.decode("utf-8", errors="replace"))
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def too_wide(text):
    return [f"{len(line)}: {line}" for line in text.splitlines() if len(line) > 80]


def make_database(prefix):
    """The words of a line of make's database (make -p): a variable as make
    expanded it ("EXAMPLE_FILES := "), or a rule (".PHONY: ")."""
    r = subprocess.run(["make", "-s", "-p", "-n", "-C", ROOT, "help"], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):].split()
    raise AssertionError(f"make -p shows no {prefix!r}")


@unittest.skipUnless(have("mandoc"), "mandoc not installed")
class ManPageWidthTest(unittest.TestCase):
    def test_mandoc_at_80_columns(self):
        for page in PAGES:
            for device in ("ascii", "utf8"):
                r = subprocess.run(["mandoc", "-T", device, "-O", "width=80", os.path.join(ROOT, "man", page)],
                                   capture_output=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(too_wide(plain(r.stdout)), [], f"{page} ({device})")

    @unittest.skipUnless(have("man") and have("groff"), "man or groff not installed")
    def test_man_at_80_columns(self):
        env = {**os.environ, "MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat", "LC_ALL": "C.UTF-8",
               "HOME": os.environ.get("HOME", "/tmp")}
        env.pop("MANROFFOPT", None)
        for page in PAGES:
            r = subprocess.run(["man", "-l", os.path.join(ROOT, "man", page)], capture_output=True, env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertGreater(len(r.stdout), 1000, page)
            self.assertEqual(too_wide(plain(r.stdout)), [], page)


class ManPageExamplesTest(unittest.TestCase):
    def test_examples_are_named_where_make_install_puts_them(self):
        installed = make_database("EXAMPLE_FILES := ")
        self.assertIn("pop3d.conf", installed)
        for page in PAGES:
            text = page_source(page)
            named = re.findall(re.escape(EXAMPLES) + r"(/[^\s)\\]*)?", text)
            self.assertTrue(named, f"{page} names no {EXAMPLES}")
            for sub in named:
                sub = sub.strip("/")
                with self.subTest(page=page, path=sub):
                    # A file make install puts there, or a directory of some.
                    self.assertTrue(not sub or sub in installed or any(f.startswith(sub + "/") for f in installed),
                                    f"{EXAMPLES}/{sub} is not installed")
            self.assertNotIn("of the source.", text.replace("\n", " "))
            # The source tree's contrib/ is no path on an installed system.
            self.assertEqual(re.findall(r"contrib/\S*", text), [], page)

    def test_every_option_of_help_long_ones_too_is_in_pop3d_8(self):
        usage = subprocess.run([POP3D, "-h"], capture_output=True, text=True).stdout
        longs = sorted(set(re.findall(r"(--[a-z][a-z-]*)", usage)))
        self.assertEqual(longs, ["--help", "--version"])
        text = page_source("pop3d.8")
        for opt in longs:
            self.assertIn(opt.replace("-", "\\-"), text.split(".SH OPTIONS")[1].split(".SH ")[0], opt)
            self.assertIn(opt.replace("-", "\\-"), text.split(".SH SYNOPSIS")[1].split(".SH ")[0], opt)


if __name__ == "__main__":
    unittest.main()
