build-tsan/src/mailbox/mbox_maildrop.o: src/mailbox/mbox_maildrop.cpp \
 src/mailbox/mbox_maildrop.hpp src/common/unique_fd.hpp \
 src/mailbox/mailbox_lock.hpp src/mailbox/maildrop.hpp \
 src/mailbox/mbox_index.hpp src/mailbox/session_lock.hpp \
 src/mailbox/snapshot.hpp src/mailbox/uid.hpp src/mailbox/sha256.hpp \
 src/common/text.hpp src/mailbox/file_io.hpp src/mailbox/mbox_expunge.hpp \
 src/mailbox/message_encoder.hpp
src/mailbox/mbox_maildrop.hpp:
src/common/unique_fd.hpp:
src/mailbox/mailbox_lock.hpp:
src/mailbox/maildrop.hpp:
src/mailbox/mbox_index.hpp:
src/mailbox/session_lock.hpp:
src/mailbox/snapshot.hpp:
src/mailbox/uid.hpp:
src/mailbox/sha256.hpp:
src/common/text.hpp:
src/mailbox/file_io.hpp:
src/mailbox/mbox_expunge.hpp:
src/mailbox/message_encoder.hpp:
