/* What UW ipop3d would answer to UIDL on one mbox file, from UW's own
 * mailbox library (Debian's libc-client2007e; uw-imapd, which held ipop3d,
 * is no longer in Debian 12). ipop3d's UIDL is "%08lx%08lx" of the
 * stream's UID validity and the message's UID (ipop3d.c, UIDL command),
 * over the messages not flagged \Deleted (mbxopen builds that map).
 * Like ipop3d it opens the mailbox read-write and closes it without
 * expunging, so the library writes back the X-IMAPbase / X-UID headers it
 * assigned, as ipop3d would at QUIT.
 *
 *   peer_uw_probe /path/to/mbox   ->   "N UIDL" lines, then "." */
#include <stdio.h>
#include <stdlib.h>
#include <c-client.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s MBOX\n", argv[0]);
        return 2;
    }
#include "linkage.c"
    /* ipop3d's login does this; without it root is "not logged in" and
     * every mailbox name is refused */
    env_init(getenv("USER") ? getenv("USER") : "peeruser", getenv("HOME") ? getenv("HOME") : "/");
    MAILSTREAM *stream = mail_open(NIL, argv[1], NIL);
    if (!stream) return 1;
    if (stream->rdonly) {
        fprintf(stderr, "opened read-only: ipop3d would refuse\n");
        return 1;
    }
    unsigned long shown = 0;
    for (unsigned long i = 1; i <= stream->nmsgs; i++) {
        if (mail_elt(stream, i)->deleted) continue;
        printf("%lu %08lx%08lx\n", ++shown, stream->uid_validity, mail_uid(stream, i));
    }
    printf(".\n");
    fflush(stdout);
    mail_close(stream);
    return 0;
}

#include "peer_uw_callbacks.h"
