"""contrib/pop3d.conf, the example configuration installed as /etc/pop3d.conf:
it lists every key `pop3d -T` prints, each with the default -T prints and a
comment saying what it means, and with every key line uncommented it is a
configuration that pop3d accepts and that changes nothing.

The file shows the defaults of the Debian default build (prefix /usr,
sysconfdir /etc, runstatedir /run, pam_service pop3, mailbox /var/mail/%u),
the paths `make install` rewrites for other prefixes. What -T prints is
brought to that build first: the configured directories (from
src/build_config.h, which every build of this tree compiles in) become the
Debian ones, and the configured PAM service and mailbox become Debian's. For
the default build that changes nothing; for any other it keeps the test exact
instead of only checking that the path keys are present."""

import os
import re
import subprocess
import tempfile
import unittest

from harness import POP3D, ROOT

CONF = os.path.join(ROOT, "contrib", "pop3d.conf")
BUILD_CONFIG = os.path.join(ROOT, "src", "build_config.h")

# configure's value in build_config.h -> the Debian default build's value.
DEBIAN_DIRS = {"POP3D_SYSCONFDIR": "/etc", "POP3D_RUNSTATEDIR": "/run", "POP3D_SBINDIR": "/usr/sbin"}
DEBIAN_VALUES = {"pam_service": ("POP3D_DEFAULT_PAM_SERVICE", "pop3"),
                 "mailbox": ("POP3D_DEFAULT_MAILBOX", "/var/mail/%u")}

KEY_LINE = re.compile(r"#([a-z][a-z0-9_]*) =(?: (.*))?")  # "#key = value", "#key =" (empty)


def build_config():
    with open(BUILD_CONFIG) as f:
        return dict(re.findall(r'^#define (\w+) "(.*)"$', f.read(), re.M))


def to_debian_build(key, value, built):
    macro, debian = DEBIAN_VALUES.get(key, (None, None))
    if macro and value == built[macro]:
        return debian
    for macro in sorted(DEBIAN_DIRS, key=lambda m: -len(built[m])):  # the longest prefix first
        configured = built[macro]
        if value == configured or value.startswith(configured + "/"):
            return DEBIAN_DIRS[macro] + value[len(configured):]
    return value


def parse_dump(text):
    """pop3d -T's "key = value" lines, in order."""
    pairs = []
    for line in text.splitlines():
        key, sep, value = line.partition(" = ")
        if not sep:
            key, sep, value = line.partition(" =")  # an empty value, should -T ever drop the space
        pairs.append((key, value))
    return pairs


def pop3d_dump(config_file):
    return subprocess.run([POP3D, "-T", "-c", config_file], capture_output=True, text=True, timeout=30)


class Entry:
    def __init__(self, lineno, key, value, description):
        self.lineno, self.key, self.value, self.description = lineno, key, value, description


def parse_example(text):
    """The key lines of the example with the comment block right above each;
    other lines that are neither comments nor blank are returned as strays."""
    entries, strays, comment = [], [], []
    for lineno, line in enumerate(text.splitlines(), 1):
        m = KEY_LINE.fullmatch(line)
        if m:
            entries.append(Entry(lineno, m.group(1), m.group(2) or "", comment))
            comment = []
        elif line == "#" or line.startswith("# "):
            comment = comment + [line[2:]]
        elif line == "":
            comment = []
        else:
            strays.append((lineno, line))
            comment = []
    return entries, strays


@unittest.skipUnless(os.path.exists(BUILD_CONFIG), "not configured (src/build_config.h is missing)")
class ContribConfTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.built = build_config()
        r = pop3d_dump("/dev/null")  # an empty file: the defaults
        assert r.returncode == 0 and r.stderr == "", f"pop3d -T -c /dev/null: exit {r.returncode}, {r.stderr}"
        cls.dump = parse_dump(r.stdout)
        cls.defaults = {k: to_debian_build(k, v, cls.built) for k, v in cls.dump}
        with open(CONF) as f:
            cls.text = f.read()
        cls.entries, cls.strays = parse_example(cls.text)
        cls.listed = {e.key: e for e in cls.entries}

    def test_pop3d_T_prints_the_keys(self):
        self.assertGreater(len(self.dump), 30, "pop3d -T printed too little to compare with")
        self.assertIn("mailbox", dict(self.dump))

    def test_every_key_of_pop3d_T_is_listed(self):
        missing = [k for k, _ in self.dump if k not in self.listed]
        self.assertEqual(missing, [], "keys pop3d -T prints that contrib/pop3d.conf does not list")

    def test_every_listed_key_is_known_to_pop3d_T(self):
        unknown = [f"line {e.lineno}: {e.key}" for e in self.entries if e.key not in self.defaults]
        self.assertEqual(unknown, [], "keys in contrib/pop3d.conf that pop3d -T does not print")

    def test_each_key_is_listed_once(self):
        seen, twice = set(), []
        for e in self.entries:
            if e.key in seen:
                twice.append(f"line {e.lineno}: {e.key}")
            seen.add(e.key)
        self.assertEqual(twice, [])

    def test_listed_defaults_are_those_pop3d_T_prints(self):
        wrong = [f"line {e.lineno}: #{e.key} = {e.value!r}, pop3d -T: {self.defaults[e.key]!r}"
                 for e in self.entries if e.key in self.defaults and e.value != self.defaults[e.key]]
        self.assertEqual(wrong, [], "defaults in contrib/pop3d.conf that differ from pop3d -T")

    def test_every_key_has_a_comment_saying_what_it_means(self):
        bare = [f"line {e.lineno}: {e.key}" for e in self.entries
                if len(re.findall(r"[A-Za-z]{2,}", " ".join(e.description))) < 3]
        self.assertEqual(bare, [], "key lines without a comment of a few words right above them")

    def test_only_comments_and_blank_lines(self):
        self.assertEqual(self.strays, [], "lines that set something or are no '# ' comment")

    def test_header_names_the_installed_file_and_how_to_override(self):
        first = self.text.splitlines()[0]
        self.assertTrue(first.startswith("# /etc/pop3d.conf "), first)  # make install rewrites this path
        self.assertIn("pop3d.conf(5)", self.text.split("\n\n")[0])
        self.assertIn("default", self.text.split("\n\n")[0])

    def test_uncommented_the_file_is_accepted_and_changes_nothing(self):
        # The parser and its cross-key checks are those of pop3d -t; -t also
        # probes this host (PAM file, spool, port 110), which is no property
        # of the file, so -T is asked.
        uncommented = "".join(line[1:] if KEY_LINE.fullmatch(line.rstrip("\n")) else line
                              for line in self.text.splitlines(keepends=True))
        with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
            f.write(uncommented)
            f.flush()
            r = pop3d_dump(f.name)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertEqual(len(r.stdout.splitlines()), len(self.dump))
        self.assertEqual(dict(parse_dump(r.stdout)), self.defaults)


class NormalisationTest(unittest.TestCase):
    """to_debian_build() itself, with the paths of a /usr/local build."""
    BUILT = {"POP3D_SYSCONFDIR": "/usr/local/etc", "POP3D_RUNSTATEDIR": "/var/run", "POP3D_SBINDIR": "/usr/local/sbin",
             "POP3D_DEFAULT_PAM_SERVICE": "pop3d", "POP3D_DEFAULT_MAILBOX": "/var/spool/mail/%u"}

    def test_configured_values_become_the_debian_build_ones(self):
        b = self.BUILT
        self.assertEqual(to_debian_build("pid_file", "/var/run/pop3d.pid", b), "/run/pop3d.pid")
        self.assertEqual(to_debian_build("runtime_dir", "/var/run/pop3d", b), "/run/pop3d")
        self.assertEqual(to_debian_build("x", "/usr/local/etc/pop3d.conf", b), "/etc/pop3d.conf")
        self.assertEqual(to_debian_build("pam_service", "pop3d", b), "pop3")
        self.assertEqual(to_debian_build("mailbox", "/var/spool/mail/%u", b), "/var/mail/%u")

    def test_other_values_stay(self):
        b = self.BUILT
        self.assertEqual(to_debian_build("pam_service", "pop3", b), "pop3")
        self.assertEqual(to_debian_build("runtime_dir", "/var/runner", b), "/var/runner")
        self.assertEqual(to_debian_build("log_file", "", b), "")
        self.assertEqual(to_debian_build("expire", "pop3d", b), "pop3d")


if __name__ == "__main__":
    unittest.main()
