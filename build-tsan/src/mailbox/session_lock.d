build-tsan/src/mailbox/session_lock.o: src/mailbox/session_lock.cpp \
 src/mailbox/session_lock.hpp src/common/unique_fd.hpp \
 src/mailbox/maildrop.hpp src/common/text.hpp src/mailbox/file_io.hpp \
 src/mailbox/sha256.hpp
src/mailbox/session_lock.hpp:
src/common/unique_fd.hpp:
src/mailbox/maildrop.hpp:
src/common/text.hpp:
src/mailbox/file_io.hpp:
src/mailbox/sha256.hpp:
