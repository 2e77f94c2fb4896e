"""The build: configure's messages and paths, hardening flags, install, man pages."""

import os
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
    def test_install_into_destdir(self):
        if subprocess.run(["make", "-s", "-q", "-C", ROOT, "all"], capture_output=True).returncode != 0:
            self.skipTest("the build is not up to date (make check builds it first)")
        dest = tempfile.mkdtemp(prefix="pop3d-dest-")
        self.addCleanup(shutil.rmtree, dest)
        r = subprocess.run(["make", "-s", "-C", ROOT, "install", f"DESTDIR={dest}"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        files = {os.path.basename(f): os.path.join(d, f) for d, _, fs in os.walk(dest) for f in fs}
        self.assertEqual(sorted(files), ["pop3d", "pop3d.8", "pop3d.conf.5"])
        self.assertTrue(files["pop3d"].endswith("/sbin/pop3d"))
        self.assertTrue(files["pop3d.8"].endswith("/man8/pop3d.8"))
        self.assertTrue(os.access(files["pop3d"], os.X_OK))


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


if __name__ == "__main__":
    unittest.main()
