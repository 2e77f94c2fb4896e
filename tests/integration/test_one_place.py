"""One place for each rule (issue 20), read from the source: every reply
text is in session/responses.hpp, and the client fields of a log line
(user=, rip=) are spelled, and escaped, by the log layer alone, so no call
site can send a text of its own or log a client's name raw. No daemon is
started."""

import os
import re
import unittest

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)


def literals():
    """(path relative to src, line number, text) of each string literal in src/**."""
    for folder, _, files in os.walk(SRC):
        for name in sorted(files):
            if not name.endswith((".cpp", ".hpp")):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                code = f.read()
            # Comments become blanks of the same lines, so numbers stay right.
            code = COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), code)
            for m in STRING.finditer(code):
                yield os.path.relpath(path, SRC), code.count("\n", 0, m.start()) + 1, m.group(0)[1:-1]


def found(pattern, allowed):
    return [f"{path}:{line}: {text!r}" for path, line, text in literals()
            if re.search(pattern, text) and not path.startswith(allowed)]


class OnePlaceTest(unittest.TestCase):
    def test_the_tree_is_read(self):
        self.assertTrue(any(path == "session/responses.hpp" for path, _, _ in literals()))

    def test_reply_texts_live_in_the_reply_table(self):
        self.assertEqual(found(r"^(-ERR|\+OK)( |$)", ("session/responses.hpp",)), [])

    def test_client_log_fields_are_spelled_by_the_log_layer(self):
        self.assertEqual(found(r"(^| )(user|rip)=", ("log/",)), [])

    def test_the_checker_sees_a_text_out_of_place(self):
        self.assertTrue(re.search(r"^(-ERR|\+OK)( |$)", "-ERR [SYS/TEMP] server busy"))
        self.assertTrue(re.search(r"(^| )(user|rip)=", " rip=unknown"))


if __name__ == "__main__":
    unittest.main()
