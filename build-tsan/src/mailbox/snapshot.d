build-tsan/src/mailbox/snapshot.o: src/mailbox/snapshot.cpp \
 src/mailbox/snapshot.hpp src/mailbox/maildrop.hpp \
 src/mailbox/mbox_index.hpp src/common/text.hpp src/mailbox/file_io.hpp
src/mailbox/snapshot.hpp:
src/mailbox/maildrop.hpp:
src/mailbox/mbox_index.hpp:
src/common/text.hpp:
src/mailbox/file_io.hpp:
