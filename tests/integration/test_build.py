"""The build: configure's messages and paths, hardening flags, install, man pages."""

import os
import re
import shutil
import subprocess
import unittest

from harness import POP3D, ROOT, SANITIZED, have, temp_dir


def copy_build_files(dest):
    for name in ("configure", "configure.ac", "config.mk.in", "Makefile"):
        shutil.copy(os.path.join(ROOT, name), dest)
    os.makedirs(os.path.join(dest, "src", "app"))
    shutil.copy(os.path.join(ROOT, "src", "build_config.h.in"), os.path.join(dest, "src"))
    shutil.copy(os.path.join(ROOT, "src", "app", "main.cpp"), os.path.join(dest, "src", "app"))


@unittest.skipUnless(os.path.exists(os.path.join(ROOT, "configure")), "configure not generated")
class ConfigureTest(unittest.TestCase):
    def setUp(self):
        self.dir = temp_dir(self, "pop3d-build-")
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
        self.assertIn('#define POP3D_DOCDIR "/opt/p/share/doc/pop3d"', header)
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
    # The files that name installed paths, and the Debian paths they name in contrib/ and man/.
    PATH_FILES = ["man/man8/pop3d.8", "man/man5/pop3d.conf.5", "doc/pop3d/examples/systemd/pop3d.service",
                  "doc/pop3d/examples/systemd/pop3d@.service", "doc/pop3d/examples/inetd/pop3d.inetd",
                  "doc/pop3d/examples/xinetd/pop3d", "doc/pop3d/examples/pop3d.conf"]
    DEBIAN_PATHS = ["/usr/sbin/pop3d", "/etc/pop3d.conf", "/run/pop3d", "/etc/pam.d/pop3\n"]

    def setUp(self):
        if subprocess.run(["make", "-s", "-q", "-C", ROOT, "all"], capture_output=True).returncode != 0:
            self.skipTest("the build is not up to date (make check builds it first)")
        self.dest = temp_dir(self, "pop3d-dest-")

    def make(self, target, *args, destdir=True):
        settings = ["prefix=/opt/p", "sysconfdir=/etc/p", "pamdir=/etc/pam.d"] if not args else list(args)
        r = subprocess.run(["make", "-s", "-C", ROOT, target, *([f"DESTDIR={self.dest}"] if destdir else []),
                            *settings], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def files(self):
        return sorted(os.path.relpath(os.path.join(d, f), self.dest) for d, _, fs in os.walk(self.dest) for f in fs)

    def read(self, path):
        with open(os.path.join(self.dest, path)) as f:
            return f.read()

    def test_install_honours_destdir_prefix_and_sysconfdir(self):
        out = self.make("install")
        docs = ["README", "DESIGN.md", "LICENSE"] + [f"examples/{e}" for e in self.EXAMPLES]
        self.assertEqual(self.files(), sorted(["etc/p/pop3d.conf", "etc/pam.d/pop3", "opt/p/sbin/pop3d",
                                               "opt/p/share/man/man8/pop3d.8", "opt/p/share/man/man5/pop3d.conf.5"] +
                                              [f"opt/p/share/doc/pop3d/{d}" for d in docs]))
        self.assertTrue(os.access(os.path.join(self.dest, "opt/p/sbin/pop3d"), os.X_OK))
        self.assertIn(f"installed {self.dest}/etc/pam.d/pop3", out)
        self.assertIn(".IR /etc/p/pop3d.conf .", self.read("opt/p/share/man/man8/pop3d.8"))
        with open(os.path.join(ROOT, "contrib", "pam.d", "pop3")) as g:
            self.assertTrue(self.read("etc/pam.d/pop3").startswith(g.read()))
        with open(os.path.join(ROOT, "LICENSE")) as g:
            self.assertEqual(self.read("opt/p/share/doc/pop3d/LICENSE"), g.read())

    def test_paths_follow_the_configured_prefix(self):
        """Two prefixes: every installed unit, inetd/xinetd line, the example
        configuration and the man pages name this build's paths and no other."""
        layouts = [("usr", ["prefix=/usr", "sysconfdir=/etc", "runstatedir=/run", "pamdir=/etc/pam.d"],
                    ["/usr/sbin/pop3d", "/etc/pop3d.conf", "/run/pop3d", "/etc/pam.d/pop3\n"]),
                   ("opt/p", ["prefix=/opt/p", "sysconfdir=/etc/p", "runstatedir=/var/run/p",
                              "pamdir=/etc/p/pam.d", "PAM_SERVICE=popper",
                              "MAILBOX_PATTERN=/var/spool/mail/%u"],
                    ["/opt/p/sbin/pop3d", "/etc/p/pop3d.conf", "/var/run/p/pop3d", "/etc/p/pam.d/popper\n"]),
                   # pamdir holds /etc/pam.d and runstatedir /run: nothing is rewritten twice;
                   # & and | in a path reach the files as they are.
                   ("opt/a&b|c", ["prefix=/opt/a&b|c", "sysconfdir=/opt/a&b|c/etc", "runstatedir=/opt/a&b|c/run",
                                  "pamdir=/opt/a&b|c/etc/pam.d"],
                    ["/opt/a&b|c/sbin/pop3d", "/opt/a&b|c/etc/pop3d.conf", "/opt/a&b|c/run/pop3d",
                     "/opt/a&b|c/etc/pam.d/pop3\n"])]
        for prefix, settings, paths in layouts:
            with self.subTest(prefix=prefix):
                self.make("install", *settings)
                text = "".join(self.read(f"{prefix}/share/{f}") for f in self.PATH_FILES)
                text = text.replace("\\-", "-")
                text = text.replace(".IR ", ".I ").replace(" .\n", "\n")
                rest = text  # what is left once this build's paths are taken out
                for path in paths:
                    self.assertIn(path.replace("\\n", "\n"), text)
                    rest = rest.replace(path.replace("\\n", "\n"), "")
                for path in set(self.DEBIAN_PATHS) - set(paths):
                    self.assertNotIn(path.replace("\\n", "\n"), rest)
                service = self.read(f"{prefix}/share/doc/pop3d/examples/systemd/pop3d.service")
                self.assertIn(f"ExecStart={paths[0]} -f", service)
                self.assertIn(f"/{prefix}/share/doc/pop3d/examples", self.read(f"{prefix}/share/man/man8/pop3d.8"))
                if prefix == "opt/p":
                    self.assertIn("ReadWritePaths=-/var/spool/mail\n", service)
                    self.assertIn("#pam_service = popper\n", self.read("etc/p/pop3d.conf"))
                    self.assertIn("\n#mailbox = /var/spool/mail/%u\n", self.read("etc/p/pop3d.conf"))
                    self.assertNotIn("/usr/share/doc", text)
                    page = self.read("opt/p/share/man/man5/pop3d.conf.5")
                    self.assertIn("Default:\n.BR popper .", page)
                    self.assertIn("Default:\n.BR /var/spool/mail/%u .", page)
                self.make("uninstall", *settings)
                self.assertEqual(self.files(), [])

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
        self.assertIn(f"kept {conf}: it was changed since make install wrote it", out)
        self.assertEqual(self.files(), ["etc/p/pop3d.conf"])  # the unchanged PAM file went too

    def test_an_admins_own_file_is_left_alone(self):
        """A PAM file that was there before install (qpopper's, an admin's
        copy of ours) is neither replaced nor removed, nor called changed."""
        for content in ("auth required pam_unix.so\n", open(os.path.join(ROOT, "contrib", "pam.d", "pop3")).read()):
            pam = os.path.join(self.dest, "etc/pam.d/pop3")
            os.makedirs(os.path.dirname(pam), exist_ok=True)
            with open(pam, "w") as f:
                f.write(content)
            self.assertIn(f"kept the existing {pam}", self.make("install"))
            out = self.make("uninstall")
            self.assertIn(f"left {pam} alone: make install did not write it", out)
            self.assertNotIn("changed", out)
            self.assertEqual(self.read("etc/pam.d/pop3"), content)
            self.assertEqual(self.files(), ["etc/pam.d/pop3"])

    def test_uninstall_removes_every_file_and_pop3ds_directories(self):
        self.make("install")
        self.make("uninstall")
        self.assertEqual(self.files(), [])
        dirs = [os.path.relpath(d, self.dest) for d, _, _ in os.walk(self.dest)]
        self.assertFalse([d for d in dirs if "pop3d" in d or "examples" in d], dirs)

    def test_a_shared_docdir_and_its_other_files_survive(self):
        """docdir=/usr/share/doc (shared by every package): pop3d's documents go
        to a pop3d directory in it, so another's README is never overwritten,
        and uninstall removes pop3d's files and directories, nothing else."""
        shared = os.path.join(self.dest, "usr/share/doc")
        os.makedirs(os.path.join(shared, "bash"))
        for name in ("bash/copyright", "README", "LICENSE"):
            with open(os.path.join(shared, name), "w") as f:
                f.write("someone else's\n")
        settings = ["prefix=/usr", "sysconfdir=/etc", "docdir=/usr/share/doc"]
        self.make("install", *settings)
        self.assertTrue(os.path.exists(os.path.join(shared, "pop3d/examples/pop3d.conf")))
        self.assertTrue(os.path.exists(os.path.join(shared, "pop3d/README")))
        self.assertIn("/usr/share/doc/pop3d/examples", self.read("usr/share/man/man8/pop3d.8"))
        for name in ("README", "LICENSE"):
            self.assertEqual(self.read(f"usr/share/doc/{name}"), "someone else's\n")
        self.make("uninstall", *settings)
        self.assertEqual(self.files(), ["usr/share/doc/LICENSE", "usr/share/doc/README", "usr/share/doc/bash/copyright"])
        self.assertFalse(os.path.exists(os.path.join(shared, "pop3d")))

    @unittest.skipUnless(have("readelf"), "readelf (binutils) not installed")
    def test_install_strip_installs_the_program_without_debugging_information(self):
        def sections(path):
            return subprocess.run(["readelf", "-S", "-W", path], capture_output=True, text=True).stdout
        if ".debug_info" not in sections(POP3D):
            self.skipTest("the build has no debugging information to strip")
        self.make("install-strip")
        stripped = os.path.join(self.dest, "opt/p/sbin/pop3d")
        self.assertNotIn(".debug_info", sections(stripped))
        self.assertNotIn(".symtab", sections(stripped))
        self.assertLess(os.path.getsize(stripped), os.path.getsize(POP3D) // 2)
        r = subprocess.run([stripped, "-V"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.make("uninstall")
        self.assertEqual(self.files(), [])

    @unittest.skipUnless(have("systemd-analyze"), "systemd-analyze not installed")
    def test_installed_units_verify(self):
        """Installed under a prefix (no DESTDIR), the units name the installed
        program and man pages: systemd-analyze verify is silent."""
        prefix = os.path.join(self.dest, "p")
        self.make("install", f"prefix={prefix}", f"sysconfdir={prefix}/etc", f"pamdir={prefix}/pam.d",
                  destdir=False)
        units = os.path.join(prefix, "share/doc/pop3d/examples/systemd")
        names = sorted(os.listdir(units))
        r = subprocess.run(["systemd-analyze", "verify", *[os.path.join(units, n) for n in names]],
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "MANPATH": os.path.join(prefix, "share/man")})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual((r.stdout + r.stderr).strip(), "")


@unittest.skipUnless(os.path.exists(os.path.join(ROOT, "configure")), "configure not generated")
class PlainMakeTest(unittest.TestCase):
    """`make` never changes the system's packages; `make demo` and `make
    check` (the README's set-up commands) install what they need as root."""

    def setUp(self):
        self.dir = temp_dir(self, "pop3d-make-")
        copy_build_files(self.dir)
        shutil.copytree(os.path.join(ROOT, "src"), os.path.join(self.dir, "src"), dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("build_config.h", "pop3d"))
        os.makedirs(os.path.join(self.dir, "tests"))
        shutil.copy(os.path.join(ROOT, "tests", "ensure-deps"), os.path.join(self.dir, "tests"))
        os.utime(os.path.join(self.dir, "configure"))  # newer than configure.ac: no autoreconf
        bin_dir = os.path.join(self.dir, "fake-bin")
        os.makedirs(bin_dir)
        self.apt_log = os.path.join(self.dir, "apt-get.log")
        fakes = {"dpkg-query": "exit 1\n",  # every package missing
                 "apt-get": f'echo "$*" >>{self.apt_log}\n', "id": 'echo 0\n'}
        for name, body in fakes.items():
            with open(os.path.join(bin_dir, name), "w") as f:
                f.write("#!/bin/sh\n" + body)
            os.chmod(os.path.join(bin_dir, name), 0o755)
        self.env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}

    def make(self, *goals):
        return subprocess.run(["make", "-n", *goals], cwd=self.dir, capture_output=True, text=True,
                              env=self.env, timeout=300)

    def apt_calls(self):
        return open(self.apt_log).read() if os.path.exists(self.apt_log) else ""

    def test_plain_make_never_runs_apt_get(self):
        r = self.make()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)  # configured (the real packages are there)
        self.assertEqual(self.apt_calls(), "")
        self.assertIn("src/app/main.cpp", r.stdout)

    def test_make_demo_and_check_install_what_they_need(self):
        for goal in ("demo", "check"):
            with self.subTest(goal=goal):
                r = self.make(goal)
                self.assertIn("install -y -q --no-install-recommends", self.apt_calls(), r.stdout + r.stderr)
                self.assertIn("libpam-wrapper", self.apt_calls())
                os.unlink(self.apt_log)
                os.unlink(os.path.join(self.dir, "config.mk"))

    def test_a_missing_build_dependency_stops_make_with_the_apt_get_line(self):
        r = subprocess.run(["make", "-n", "ac_cv_header_security_pam_appl_h=no"], cwd=self.dir,
                           capture_output=True, text=True, env={**self.env, "ac_cv_header_security_pam_appl_h": "no"},
                           timeout=300)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("apt-get install --no-install-recommends libpam0g-dev", r.stdout + r.stderr)
        self.assertEqual(self.apt_calls(), "")


@unittest.skipUnless(have("systemd-analyze"), "systemd-analyze not installed")
class SystemdUnitsTest(unittest.TestCase):
    def test_units_verify(self):
        """contrib/systemd units, with ExecStart on the built binary and the
        Documentation= lines (man pages not installed here) left out."""
        work = temp_dir(self, "pop3d-units-")
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
                    low, high = re.search(r"from (\d+) to (\d+)", r.stdout).groups()
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
