"""Real procmail deliveries into one mailbox while POP3 sessions log in,
retrieve, delete and quit in a loop, against one server or several that
share the spool. Afterwards every delivered message must be either deleted
by a session whose QUIT succeeded or still in the mailbox, once and whole."""

import re
import subprocess
import threading
import time

from harness import unstuff

SUBJECT = re.compile(rb"^Subject: delivery (\S+)\r?$", re.M)


class DeliveryWorkload:
    def __init__(self, mailbox_path, work_dir):
        self.mailbox_path = mailbox_path
        self.rc = f"{work_dir}/procmailrc"
        with open(self.rc, "w") as f:
            f.write(f"SHELL=/bin/sh\nLOCKSLEEP=1\nDEFAULT={mailbox_path}\n")
        self.errors, self.delivery_times, self.quit_times, self.deleted = [], [], [], []
        self.sessions = {}  # name of the pop loop -> sessions whose QUIT succeeded

    @staticmethod
    def body(tag):
        k = int(tag.split("-")[1])
        return "".join(f"line {j} of {tag}\n" for j in range(1 + (k * 7) % 40))

    def deliver(self, worker, count):
        try:
            for k in range(count):
                tag = f"{worker}-{k}"
                msg = f"From: w{worker}@example.org\nSubject: delivery {tag}\n\n{self.body(tag)}".encode()
                start = time.monotonic()
                r = subprocess.run(["procmail", "-f", f"w{worker}@example.org", "-m", self.rc], input=msg,
                                   capture_output=True, timeout=60)
                self.delivery_times.append(time.monotonic() - start)
                if r.returncode != 0:
                    self.errors.append(r.stderr)
        except Exception as e:  # noqa: BLE001
            self.errors.append(repr(e))

    def whole(self, text):
        m = SUBJECT.search(text)
        return m and text.endswith(b"\r\n\r\n" + self.body(m.group(1).decode()).replace("\n", "\r\n").encode())

    def pop_loop(self, done, connect, name="pop"):
        """connect() -> a harness.Raw; sessions until done is set."""
        try:
            while not done.is_set():
                c = connect()
                if not c.login().startswith(b"+OK"):  # e.g. [IN-USE] while another session has it
                    c.close()
                    time.sleep(0.02)
                    continue
                n = int(c.cmd("STAT").split()[1])
                pending = []
                for i in range(1, min(n, 3) + 1):
                    _, body = c.multiline(f"RETR {i}")
                    text = unstuff(body)
                    if not self.whole(text):
                        self.errors.append(b"damaged: " + text[:200])
                        continue
                    if c.cmd(f"DELE {i}").startswith(b"+OK"):
                        pending.append(SUBJECT.search(text).group(1))
                start = time.monotonic()
                reply = c.cmd("QUIT")
                self.quit_times.append(time.monotonic() - start)
                if reply.startswith(b"+OK"):
                    self.deleted.extend(pending)
                    self.sessions[name] = self.sessions.get(name, 0) + 1
                c.close()
                time.sleep(0.05)
        except Exception as e:  # noqa: BLE001
            self.errors.append(repr(e))

    def run(self, workers, per_worker, connects):
        """connects: {name: connect()} -- one pop loop each, beside the deliveries."""
        done = threading.Event()
        poppers = [threading.Thread(target=self.pop_loop, args=(done, connect, name))
                   for name, connect in connects.items()]
        for p in poppers:
            p.start()
        threads = [threading.Thread(target=self.deliver, args=(w, per_worker)) for w in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(0.3)
        done.set()
        for p in poppers:
            p.join()

    def check_every_message_once_and_whole(self, test, workers, per_worker, connect):
        """The mailbox holds exactly what was not deleted, once, and every
        message in it reads back whole through connect()."""
        test.assertEqual(self.errors, [])
        with open(self.mailbox_path, "rb") as f:
            remaining = SUBJECT.findall(f.read())
        everything = sorted(f"{w}-{k}".encode() for w in range(workers) for k in range(per_worker))
        test.assertEqual(sorted(remaining + self.deleted), everything)
        test.assertEqual(len(set(remaining)), len(remaining))
        c = connect()
        c.login()
        n = int(c.cmd("STAT").split()[1])
        for i in range(1, n + 1):
            _, body = c.multiline(f"RETR {i}")
            test.assertTrue(self.whole(unstuff(body)))
        c.cmd("QUIT")
        c.close()
        return remaining
