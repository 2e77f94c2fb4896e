"""The other programs that write a mailbox, run for real on a test spool:
procmail and dovecot-lda deliver, mutt deletes in place (same inode,
dotlock and fcntl, as a user at a shell does). Each returns nothing and
raises when the program fails, so a test never reads a half-done setup."""

import os
import shutil
import subprocess

from harness import IS_ROOT

DOVECOT_LDA = "/usr/lib/dovecot/dovecot-lda"


def have_mutt():
    return shutil.which("mutt") is not None and shutil.which("script") is not None


def have_dovecot_lda():
    return os.access(DOVECOT_LDA, os.X_OK)


def procmail_deliver(env, user, message, sender="sender@example.org", options=()):
    """procmail -m with DEFAULT at the user's mailbox: the dotlock, then
    fcntl, a From_ line, ">From " quoting (unless the message carries a
    Content-Length, which procmail rewrites to the true length, within the
    width of the field it was given; -Y quotes and ignores lengths)."""
    rc = os.path.join(env.dir, f"procmailrc-{user}")
    with open(rc, "w") as f:
        f.write(f"SHELL=/bin/sh\nLOCKSLEEP=1\nDEFAULT={env.mailbox(user)}\n")
    r = subprocess.run(["procmail", *options, "-f", sender, "-m", rc], input=message, capture_output=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"procmail failed ({r.returncode}): {r.stderr.decode(errors='replace')}")


def mutt_delete(env, user, subject):
    """mutt deletes the messages whose Subject contains `subject` and syncs:
    it rewrites the mailbox in place from the first change on (adding
    Content-Length and Lines headers to what it rewrites) and truncates it."""
    home = os.path.join(env.dir, "mutt-home")
    os.makedirs(home, exist_ok=True)
    rc = os.path.join(home, "muttrc")
    with open(rc, "w") as f:
        f.write("set mbox_type=mbox\nset move=no\nset delete=yes\nset quit=yes\nset mark_old=no\n"
                "set check_new=no\nset sort=mailbox-order\nset confirmappend=no\nset record=\n"
                f"set folder={home}\nset spoolfile={env.mailbox(user)}\nset postponed={home}/postponed\n"
                "set header_cache=\nset message_cachedir=\n")
    keys = f"<delete-pattern>~s {subject}<enter><sync-mailbox><quit>"
    command = f"mutt -n -F {rc} -f {env.mailbox(user)} -e 'push \"{keys}\"'"
    before = os.stat(env.mailbox(user))
    r = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True, timeout=60,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "TERM": "vt100"})
    after = os.stat(env.mailbox(user))
    with open(env.mailbox(user), "rb") as f:
        left = f.read()
    if r.returncode != 0 or after.st_ino != before.st_ino or f"Subject: {subject}".encode() in left:
        raise RuntimeError(f"mutt did not delete in place (exit {r.returncode}): {r.stdout[-500:]!r}")


def dovecot_lda_deliver(env, user, message, sender="sender@example.org"):
    """dovecot-lda into the user's mbox, as the mailbox's owner: it writes a
    Content-Length into every message and quotes no From line."""
    conf = os.path.join(env.dir, f"dovecot-{user}.conf")
    home = os.path.join(env.dir, f"dovecot-home-{user}")
    os.makedirs(home, exist_ok=True)
    with open(conf, "w") as f:
        f.write("protocols =\nssl = no\nlog_path = /dev/stderr\nfirst_valid_uid = 0\n"
                f"mail_location = mbox:{home}:INBOX={env.mailbox(user)}:INDEX=MEMORY\n")
    owner = os.stat(env.mailbox(user)).st_uid if os.path.exists(env.mailbox(user)) else os.geteuid()
    cmd = [DOVECOT_LDA, "-c", conf, "-f", sender]
    if IS_ROOT:
        os.chown(home, owner, -1)
        cmd = ["setpriv", f"--reuid={owner}", f"--regid={env.mail_gid}", "--clear-groups", *cmd]
    r = subprocess.run(cmd, input=message, capture_output=True, timeout=60,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "USER": user})
    if r.returncode != 0:
        raise RuntimeError(f"dovecot-lda failed ({r.returncode}): {r.stderr.decode(errors='replace')}")
