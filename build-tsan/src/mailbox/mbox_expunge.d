build-tsan/src/mailbox/mbox_expunge.o: src/mailbox/mbox_expunge.cpp \
 src/mailbox/mbox_expunge.hpp src/mailbox/maildrop.hpp \
 src/mailbox/mailbox_lock.hpp src/mailbox/mbox_index.hpp \
 src/mailbox/snapshot.hpp src/common/text.hpp src/mailbox/file_io.hpp
src/mailbox/mbox_expunge.hpp:
src/mailbox/maildrop.hpp:
src/mailbox/mailbox_lock.hpp:
src/mailbox/mbox_index.hpp:
src/mailbox/snapshot.hpp:
src/common/text.hpp:
src/mailbox/file_io.hpp:
