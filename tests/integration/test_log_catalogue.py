"""Every kind of log line pop3d can write is listed in pop3d(8) LOGGING,
with its level, its fields, what it means and what to do (issue 19, item 3).

The kinds come from src/log/events.hpp, the one place that defines them:
log::write() takes nothing else. The catalogue is the LOGGING section's
entries: a .TP tag "LEVEL: fixed words FIELDS", with placeholders in
italics and [ ] around what may be missing. Lines from a real daemon must
match an entry too, so the fields listed are the fields written."""

import glob
import os
import re
import signal
import socket
import unittest

from fixtures import simple
from harness import ROOT, Env, Raw, wait_for
from test_proxy import Proxied, closed_without_greeting, v1

EVENTS_HPP = os.path.join(ROOT, "src", "log", "events.hpp")
MAN_PAGE = os.path.join(ROOT, "man", "pop3d.8")
LEVEL_WORD = {"err": "error", "warning": "warning", "notice": "notice", "info": "info"}
EVENT = re.compile(r'inline constexpr Event (\w+)\{\s*"((?:[^"\\]|\\.)*)",\s*Level::(\w+)(?:,\s*(true|false))?\s*\};')


def events():
    """[(name, text, level word, names_client)] from src/log/events.hpp."""
    with open(EVENTS_HPP) as f:
        source = f.read()
    found = [(m.group(1), m.group(2), LEVEL_WORD[m.group(3)], m.group(4) == "true") for m in EVENT.finditer(source)]
    # Anything that looks like a definition but was not understood is a failure, not a silent skip.
    defined = len(re.findall(r"^inline constexpr Event ", source, re.M))
    assert len(found) == defined, "events.hpp: a definition the test cannot read"
    return found


def roff_text(s):
    """Roman text of a roff fragment: font changes and escapes gone."""
    s = re.sub(r"\\f[BIRP]", "", s)
    return s.replace("\\-", "-").replace("\\(em", "--").replace('"', "")


def logging_section():
    with open(MAN_PAGE) as f:
        page = f.read()
    start = page.index("\n.SH LOGGING\n")
    end = page.index("\n.SH ", start + 1)
    return page[start:end].splitlines()


class Entry:
    """One .TP entry: its tag, as text and as a regex for real lines."""

    def __init__(self, tag, description):
        self.tag = tag
        self.description = description
        if not tag.startswith(".B "):
            raise ValueError(f"a LOGGING tag must be a .B line: {tag}")
        body = tag[3:]
        level, _, rest = roff_text(body).partition(": ")
        self.level = level
        self.text = rest  # "login failed user=NAME rip=ADDR (WHY)"
        self.regex = re.compile(self.to_regex(body[len(level) + 2:]))

    @staticmethod
    def to_regex(body):
        """Bold is literal, italic (\\fI...\\fB) a placeholder, "[...]" optional."""
        out = []
        for i, piece in enumerate(re.split(r"\\fI(.*?)\\f[BRP]", body)):
            if i % 2:
                out.append(".+?")
                continue
            piece = roff_text(piece)
            for j, chunk in enumerate(re.split(r"(\[|\])", piece)):
                if chunk == "[":
                    # " [x]": the space goes with what may be missing
                    if out and out[-1].endswith("\\ "):
                        out[-1] = out[-1][:-2]
                        out.append("(?:\\ ")
                    else:
                        out.append("(?:")
                elif chunk == "]":
                    out.append(")?")
                else:
                    out.append(re.escape(chunk))
        return "".join(out)


def catalogue():
    lines = logging_section()
    entries = []
    for i, line in enumerate(lines):
        if line != ".TP":
            continue
        description = []
        for following in lines[i + 2:]:
            if re.match(r"\.(TP|PP|SS|SH)\b", following):
                break
            description.append(following)
        entries.append(Entry(lines[i + 1], roff_text(" ".join(description)).strip()))
    return entries


def event_of(text, known):
    """The event a line's text is (the longest fixed words it starts with)."""
    fits = [e for e in known if text == e[1] or text.startswith(e[1] + " ")]
    return max(fits, key=lambda e: len(e[1])) if fits else None


class CatalogueTest(unittest.TestCase):
    def test_every_event_is_listed_with_its_level(self):
        entries = catalogue()
        missing = []
        for name, text, level, _ in events():
            if not any(e.level == level and (e.text == text or e.text.startswith(text + " ")) for e in entries):
                missing.append(f"{name}: .TP / .B {level}: {text} ...")
        self.assertEqual(missing, [], "events of src/log/events.hpp not in pop3d(8) LOGGING")

    def test_every_entry_is_an_event_and_says_what_it_means(self):
        known = events()
        for e in catalogue():
            event = event_of(e.text, known)
            self.assertIsNotNone(event, f"pop3d(8) LOGGING lists a line pop3d never writes: {e.text}")
            self.assertEqual(e.level, event[2], e.text)
            self.assertGreater(len(e.description.split()), 3, f"say what it means and what to do: {e.text}")

    def test_event_texts_are_distinct(self):
        texts = [text for _, text, _, _ in events()]
        self.assertEqual(sorted(texts), sorted(set(texts)))

    def test_lines_are_written_only_through_the_events(self):
        """log::write takes an Event; events are made only in events.hpp,
        and nothing but src/log/ talks to syslog or the log file itself."""
        offenders = []
        for path in glob.glob(os.path.join(ROOT, "src", "**", "*.[ch]pp"), recursive=True):
            rel = os.path.relpath(path, ROOT)
            if rel.startswith(os.path.join("src", "log") + os.sep):
                continue
            with open(path) as f:
                for n, line in enumerate(f, 1):
                    if re.search(r"\bEvent\s*\{|\bv?syslog\(|\bopenlog\(", line):
                        offenders.append(f"{rel}:{n}: {line.strip()}")
        self.assertEqual(offenders, [])


class RealLinesTest(unittest.TestCase):
    """A daemon's real lines, of many kinds, each match a listed format."""

    def test_real_lines_match_the_catalogue(self):
        env = Env(config={"proxy_trusted": "127.0.0.2"})
        self.addCleanup(env.close)
        env.write_mailbox("alice", simple(3))
        env.start("threads")
        with Raw(env.port) as c:
            self.assertTrue(c.login().startswith(b"+OK"))
            c.cmd("RETR 1")
            c.multiline_raw()
            c.cmd("DELE 2")
            c.cmd("QUIT")
        with Raw(env.port) as c:
            c.cmd("USER alice")
            c.cmd("PASS wrong")
            c.cmd("USER a b")
            c.cmd("AUTH CRAM-MD5")
            c.cmd("AUTH PLAIN !!")
            c.cmd("STLS")
            c.cmd("QUIT")
        with Proxied(env.port, v1("192.0.2.9")) as c:
            c.cmd("QUIT")
        closed_without_greeting(env.port, b"PROXY TCP4 192.0.2.300 127.0.0.1 1 110\r\n")
        socket.create_connection(("127.0.0.1", env.port), timeout=10, source_address=("127.0.0.2", 0)).close()
        os.kill(env.daemon_pid(), signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "configuration reloaded" in env.log_text()
                                 and "PROXY header missing" in env.log_text()), env.log_text())
        env.stop()

        entries, known = catalogue(), events()
        seen = set()
        for line in env.log_text().splitlines():
            level, text = line.split(": ", 2)[1:]
            event = event_of(text, known)
            self.assertIsNotNone(event, line)
            seen.add(event[0])
            # What every line about a connection gets at its end.
            tail = r" session=[0-9a-z]{8}$" if event[3] else r"(?: rip=\S+(?: proxy=\S+)?)? session=[0-9a-z]{8}$"
            bare = re.sub(tail, "", text)
            self.assertTrue(any(e.level == level and e.regex.fullmatch(bare) for e in entries),
                            f"no pop3d(8) LOGGING entry matches: {level}: {bare}")
        for name in ("connect", "login", "expunged", "logout", "login_failed", "login_refused", "stls_refused",
                     "disconnect", "proxy_refused", "proxy_missing", "listening", "reloaded", "shutting_down",
                     "stopped"):
            self.assertIn(name, seen)


if __name__ == "__main__":
    unittest.main()
