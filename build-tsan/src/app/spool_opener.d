build-tsan/src/app/spool_opener.o: src/app/spool_opener.cpp \
 src/app/spool_opener.hpp src/config/config.hpp src/priv/credentials.hpp \
 src/auth/account.hpp src/mailbox/mailbox_lock.hpp \
 src/mailbox/maildrop.hpp src/session/maildrop_opener.hpp \
 src/app/mailbox_path.hpp src/log/log.hpp src/mailbox/mbox_maildrop.hpp \
 src/common/unique_fd.hpp src/mailbox/mbox_index.hpp \
 src/mailbox/session_lock.hpp src/mailbox/snapshot.hpp \
 src/mailbox/uid.hpp src/mailbox/sha256.hpp \
 src/priv/thread_credentials.hpp
src/app/spool_opener.hpp:
src/config/config.hpp:
src/priv/credentials.hpp:
src/auth/account.hpp:
src/mailbox/mailbox_lock.hpp:
src/mailbox/maildrop.hpp:
src/session/maildrop_opener.hpp:
src/app/mailbox_path.hpp:
src/log/log.hpp:
src/mailbox/mbox_maildrop.hpp:
src/common/unique_fd.hpp:
src/mailbox/mbox_index.hpp:
src/mailbox/session_lock.hpp:
src/mailbox/snapshot.hpp:
src/mailbox/uid.hpp:
src/mailbox/sha256.hpp:
src/priv/thread_credentials.hpp:
