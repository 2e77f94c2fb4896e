"""The build: configure's messages and paths, hardening flags, install, man pages."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import POP3D, ROOT, SANITIZED, have


def copy_build_files(dest):
    for name in ("configure", "configure.ac", "config.mk.in", "Makefile"):
        shutil.copy(os.path.join(ROOT, name), dest)
    os.makedirs(os.path.join(dest, "src", "app"))
    shutil.copy(os.path.join(ROOT, "src", "build_config.h.in"), os.path.join(dest, "src"))
    shutil.copy(os.path.join(ROOT, "src", "app", "main.cpp"), os.path.join(dest, "src", "app"))


@unittest.skipUnless(os.path.exists(os.path.join(ROOT, "configure")), "configure not generated")
class ConfigureTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pop3d-build-")
        self.addCleanup(shutil.rmtree, self.dir)
        copy_build_files(self.dir)

    def configure(self, *args):
        return subprocess.run(["./configure", *args], cwd=self.dir, capture_output=True, text=True, timeout=120)

    def test_missing_dependencies_are_named_by_debian_package(self):
        r = self.configure("ac_cv_header_security_pam_appl_h=no", "ac_cv_lib_pam_pam_start=no",
                           "ac_cv_header_gtest_gtest_h=no")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("apt-get install --no-install-recommends libgtest-dev libpam0g-dev", r.stderr)

    def test_paths_and_defaults_reach_the_config_header(self):
        r = self.configure("--prefix=/opt/p", "--sysconfdir=/etc/p", "--runstatedir=/run/p",
                           "--with-mailbox=/var/spool/mail/%u", "--with-pam-service=popper")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.dir, "src", "build_config.h")) as f:
            header = f.read()
        self.assertIn('#define POP3D_DEFAULT_CONFIG_FILE "/etc/p/pop3d.conf"', header)
        self.assertIn('#define POP3D_RUNSTATEDIR "/run/p"', header)
        self.assertIn('#define POP3D_SBINDIR "/opt/p/sbin"', header)
        self.assertIn('#define POP3D_DEFAULT_MAILBOX "/var/spool/mail/%u"', header)
        self.assertIn('#define POP3D_DEFAULT_PAM_SERVICE "popper"', header)
        with open(os.path.join(self.dir, "config.mk")) as f:
            mk = f.read()
        self.assertIn("prefix          = /opt/p", mk)
        self.assertIn("-fstack-protector-strong", mk)


@unittest.skipUnless(have("readelf"), "readelf (binutils) not installed")
class HardeningTest(unittest.TestCase):
    def test_binary_is_pie_full_relro_with_stack_protector_and_fortify(self):
        if SANITIZED:
            self.skipTest("the sanitizer build is not the hardened release build")
        dyn = subprocess.run(["readelf", "-d", "-W", POP3D], capture_output=True, text=True).stdout
        self.assertIn("BIND_NOW", dyn)
        self.assertRegex(dyn, r"FLAGS_1.*PIE")
        seg = subprocess.run(["readelf", "-l", "-W", POP3D], capture_output=True, text=True).stdout
        self.assertIn("GNU_RELRO", seg)
        syms = subprocess.run(["readelf", "--dyn-syms", "-W", POP3D], capture_output=True, text=True).stdout
        self.assertIn("__stack_chk_fail", syms)
        self.assertRegex(syms, r"__\w+_chk@")


class InstallTest(unittest.TestCase):
    EXAMPLES = ["fail2ban/filter.d/pop3d.conf", "fail2ban/jail.d/pop3d.conf", "inetd/pop3d.inetd", "pam.d/pop3",
                "pop3d.conf", "systemd/pop3d-activate.socket", "systemd/pop3d.service", "systemd/pop3d.socket",
                "systemd/pop3d@.service", "systemd/pop3s-activate.socket", "xinetd/pop3d"]

    def setUp(self):
        if subprocess.run(["make", "-s", "-q", "-C", ROOT, "all"], capture_output=True).returncode != 0:
            self.skipTest("the build is not up to date (make check builds it first)")
        self.dest = tempfile.mkdtemp(prefix="pop3d-dest-")
        self.addCleanup(shutil.rmtree, self.dest)

    def make(self, target):
        r = subprocess.run(["make", "-s", "-C", ROOT, target, f"DESTDIR={self.dest}", "prefix=/opt/p",
                            "sysconfdir=/etc/p", "pamdir=/etc/pam.d"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def files(self):
        return sorted(os.path.relpath(os.path.join(d, f), self.dest) for d, _, fs in os.walk(self.dest) for f in fs)

    def test_install_honours_destdir_prefix_and_sysconfdir(self):
        out = self.make("install")
        self.assertEqual(self.files(), sorted(["etc/p/pop3d.conf", "etc/pam.d/pop3", "opt/p/sbin/pop3d",
                                               "opt/p/share/man/man8/pop3d.8", "opt/p/share/man/man5/pop3d.conf.5",
                                               "opt/p/share/doc/pop3d/README", "opt/p/share/doc/pop3d/DESIGN.md"] +
                                              [f"opt/p/share/doc/pop3d/examples/{e}" for e in self.EXAMPLES]))
        self.assertTrue(os.access(os.path.join(self.dest, "opt/p/sbin/pop3d"), os.X_OK))
        self.assertIn(f"installed {self.dest}/etc/pam.d/pop3", out)
        with open(os.path.join(self.dest, "opt/p/share/man/man8/pop3d.8")) as f:
            self.assertIn(".IR /etc/p/pop3d.conf .", f.read())  # the page names the configured path
        with open(os.path.join(self.dest, "etc/pam.d/pop3")) as f, \
                open(os.path.join(ROOT, "contrib", "pam.d", "pop3")) as g:
            self.assertEqual(f.read(), g.read())

    def test_admin_files_are_never_overwritten_and_kept_when_changed(self):
        self.make("install")
        conf = os.path.join(self.dest, "etc/p/pop3d.conf")
        with open(conf, "a") as f:
            f.write("idle_timeout = 900\n")
        out = self.make("install")
        self.assertIn(f"kept the existing {conf}", out)
        with open(conf) as f:
            self.assertTrue(f.read().endswith("idle_timeout = 900\n"))
        out = self.make("uninstall")
        self.assertIn(f"kept {conf}: it was changed since it was installed", out)
        self.assertEqual(self.files(), ["etc/p/pop3d.conf"])  # the unchanged PAM file went too

    def test_uninstall_removes_every_file(self):
        self.make("install")
        self.make("uninstall")
        self.assertEqual(self.files(), [])


@unittest.skipUnless(have("systemd-analyze"), "systemd-analyze not installed")
class SystemdUnitsTest(unittest.TestCase):
    def test_units_verify(self):
        """contrib/systemd units, with ExecStart on the built binary and the
        Documentation= lines (man pages not installed here) left out."""
        work = tempfile.mkdtemp(prefix="pop3d-units-")
        self.addCleanup(shutil.rmtree, work)
        units = sorted(os.listdir(os.path.join(ROOT, "contrib", "systemd")))
        self.assertEqual(units, ["pop3d-activate.socket", "pop3d.service", "pop3d.socket", "pop3d@.service",
                                 "pop3s-activate.socket"])
        for name in units:
            with open(os.path.join(ROOT, "contrib", "systemd", name)) as f:
                text = f.read()
            text = "\n".join(l for l in text.splitlines() if not l.startswith("Documentation="))
            with open(os.path.join(work, name), "w") as f:
                f.write(text.replace("/usr/sbin/pop3d", POP3D) + "\n")
        r = subprocess.run(["systemd-analyze", "verify", *[os.path.join(work, u) for u in units]],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual((r.stdout + r.stderr).strip(), "")


@unittest.skipUnless(have("mandoc"), "mandoc not installed")
class ManPageTest(unittest.TestCase):
    def test_man_pages_lint_clean(self):
        for page in ("pop3d.8", "pop3d.conf.5"):
            r = subprocess.run(["mandoc", "-Tlint", "-W", "warning", os.path.join(ROOT, "man", page)],
                               capture_output=True, text=True)
            self.assertEqual(r.stdout + r.stderr, "", page)
            self.assertEqual(r.returncode, 0, page)


def man_paragraphs(page):
    """{name: text} for every ".TP / .B name" entry of a man page."""
    with open(os.path.join(ROOT, "man", page)) as f:
        text = f.read()
    out = {}
    for block in re.split(r"\n\.(?:TP|SH)[^\n]*", text):
        m = re.match(r"\.B (\S+)\n", block.lstrip("\n"))
        if m:
            out[m.group(1)] = block
    return out


class ManPageContentTest(unittest.TestCase):
    def test_every_config_key_is_documented_with_default_and_range(self):
        dump = subprocess.run([POP3D, "-T", "-c", "/nonexistent"], capture_output=True, text=True).stdout
        keys = dict(line.split(" = ", 1) for line in dump.splitlines())
        self.assertGreater(len(keys), 30)
        paragraphs = man_paragraphs("pop3d.conf.5")
        for key, default in keys.items():
            with self.subTest(key=key):
                self.assertIn(key, paragraphs, "pop3d.conf.5 has no entry")
                text = paragraphs[key]
                self.assertRegex(text, r"[Dd]efault")
                if re.fullmatch(r"\d+", default):  # the range the parser enforces, and the default
                    r = subprocess.run([POP3D, "-t", "-c", "/dev/null", "-o", f"{key}=99999999999"],
                                       capture_output=True, text=True)
                    low, high = re.search(r"from (\d+) to (\d+)", r.stderr).groups()
                    self.assertIn(f"Range {low}\\-{high}", text)
                    self.assertIn(f"default {default}", text)

    def test_every_option_is_in_pop3d_8(self):
        usage = subprocess.run([POP3D, "-h"], capture_output=True, text=True).stdout
        options = sorted(set(re.findall(r"^  (-[a-zA-Z])\b", usage, re.M)))
        self.assertEqual(options, ["-T", "-V", "-c", "-f", "-h", "-i", "-l", "-o", "-t"])
        with open(os.path.join(ROOT, "man", "pop3d.8")) as f:
            page = f.read()
        for opt in options:
            self.assertRegex(page, rf"\n\.It Fl {opt[1]}\b|\n\.B \\{opt}\b|\n\.BI? \\{opt}\b", opt)
        for section in ("SYNOPSIS", "OPTIONS", "LAUNCH MODES", "SIGNALS", "FILES", "MAILBOXES AND LOCKING",
                        "LOGGING", "EXIT STATUS", "SECURITY", "STANDARDS", "SEE ALSO"):
            self.assertIn(f"\n.SH {section}\n", page)
        for rfc in ("1939", "2449", "3206", "5034"):
            self.assertIn(f"RFC {rfc}", page)


if __name__ == "__main__":
    unittest.main()
