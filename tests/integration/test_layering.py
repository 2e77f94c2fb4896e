"""The include rules of docs/DESIGN.md ("Layout and dependency rules"), read
from the #include lines of src/**: which folder may include which, and which
system headers a layer may reach. No daemon is started."""

import os
import re
import unittest

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)

# Which folders each folder may include, besides itself and build_config.h.
# This is the layering of DESIGN.md's layout as it stands: a new arrow is a
# design change, to be made here and in DESIGN.md together.
ALLOWED = {
    "app": {"auth", "common", "config", "log", "mailbox", "net", "priv", "session", "tls"},
    "auth": {"common"},
    "common": set(),
    "config": {"common", "log", "net"},
    "log": {"common"},
    "mailbox": {"common", "log"},
    "net": {"common", "log", "session", "tls"},
    "priv": {"auth", "common", "mailbox"},
    "session": {"auth", "common", "log", "mailbox"},
    "tls": set(),
}

SOCKET_HEADERS = re.compile(r"^(sys/socket\.h|sys/un\.h|netinet/.*|arpa/.*|netdb\.h|poll\.h|sys/epoll\.h|ifaddrs\.h)$")
PAM_HEADERS = re.compile(r"^security/")
FILE_HEADERS = re.compile(r"^(fcntl\.h|sys/stat\.h|sys/file\.h|dirent\.h|fstream|filesystem|sys/mman\.h)$")
# Only app/ and net/ know how the process was started (inetd, systemd, daemon).
LAUNCH_HEADERS = {"net/systemd.hpp", "net/listener.hpp"}


def sources():
    """{path relative to src: [(kind, name)]} for every .cpp/.hpp/.h under src/."""
    out = {}
    for folder, _, files in os.walk(SRC):
        for name in files:
            if name.endswith((".cpp", ".hpp", ".h")):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    rel = os.path.relpath(path, SRC)
                    out[rel] = [(m.group(1), m.group(2)) for m in INCLUDE.finditer(f.read())]
    return out


def folder_of(rel):
    return rel.split("/", 1)[0] if "/" in rel else ""


class LayeringTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.files = sources()

    def reachable(self, rel):
        """The system headers a file pulls in, through the project's own headers."""
        seen, todo, system = set(), [rel], set()
        while todo:
            cur = todo.pop()
            if cur in seen or cur not in self.files:
                continue
            seen.add(cur)
            for kind, name in self.files[cur]:
                if kind == "<":
                    system.add((name, cur))
                else:
                    todo.append(name)
        return system

    def in_folder(self, folder):
        return sorted(rel for rel in self.files if folder_of(rel) == folder)

    def test_the_tree_is_read(self):
        self.assertIn("session/session.cpp", self.files)
        self.assertEqual({folder_of(r) for r in self.files if "/" in r}, set(ALLOWED),
                         "a folder of src/ has no row in ALLOWED (and no place in DESIGN.md's layout)")

    def test_folders_include_only_the_layers_below(self):
        bad = []
        for rel, includes in sorted(self.files.items()):
            own = folder_of(rel)
            for kind, name in includes:
                if kind != '"' or "/" not in name:
                    continue  # system headers, build_config.h, same-folder names
                target = folder_of(name)
                if own and target != own and target not in ALLOWED.get(own, set()):
                    bad.append(f"src/{rel} includes {name}")
        self.assertEqual(bad, [], "include across the layering of DESIGN.md")

    def test_every_quoted_include_names_a_file(self):
        missing = [f"src/{rel}: {name}" for rel, inc in self.files.items() for kind, name in inc
                   if kind == '"' and name not in self.files]
        self.assertEqual(missing, [])

    def assert_never_reaches(self, folder, pattern, what):
        bad = sorted({f"src/{rel} reaches <{name}> (in src/{via})"
                      for rel in self.in_folder(folder)
                      for name, via in self.reachable(rel) if pattern.match(name)})
        self.assertEqual(bad, [], f"{folder}/ must not see {what}")

    def test_session_includes_no_socket_header(self):
        self.assert_never_reaches("session", SOCKET_HEADERS, "sockets")

    def test_session_includes_no_pam_header(self):
        self.assert_never_reaches("session", PAM_HEADERS, "PAM")

    def test_session_includes_no_file_header(self):
        self.assert_never_reaches("session", FILE_HEADERS, "file code")

    def test_mailbox_includes_nothing_from_session(self):
        bad = [f"src/{rel}: {name}" for rel in self.in_folder("mailbox")
               for kind, name in self.files[rel] if kind == '"' and folder_of(name) == "session"]
        self.assertEqual(bad, [])

    def test_auth_knows_nothing_of_mailboxes(self):
        bad = [f"src/{rel}: {name}" for rel in self.in_folder("auth")
               for kind, name in self.files[rel] if kind == '"' and folder_of(name) == "mailbox"]
        self.assertEqual(bad, [])

    def test_only_app_and_net_know_how_the_process_was_started(self):
        bad = [f"src/{rel}: {name}" for rel, inc in self.files.items() for kind, name in inc
               if name in LAUNCH_HEADERS and folder_of(rel) not in ("app", "net")]
        self.assertEqual(bad, [])

    def test_the_checker_sees_a_broken_rule(self):
        # The rules above must be able to fail: a made-up session file that
        # includes a socket header through a net/ header is caught.
        saved = self.files
        try:
            self.files = dict(saved)
            self.files["session/bad.cpp"] = [('"', "net/fd_transport.hpp")]
            self.files["net/fd_transport.hpp"] = saved["net/fd_transport.hpp"] + [("<", "sys/socket.h")]
            with self.assertRaises(AssertionError):
                self.test_folders_include_only_the_layers_below()
            with self.assertRaises(AssertionError):
                self.test_session_includes_no_socket_header()
        finally:
            self.files = saved


if __name__ == "__main__":
    unittest.main()
