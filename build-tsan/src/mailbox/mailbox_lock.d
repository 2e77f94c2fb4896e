build-tsan/src/mailbox/mailbox_lock.o: src/mailbox/mailbox_lock.cpp \
 src/mailbox/mailbox_lock.hpp src/mailbox/maildrop.hpp \
 src/common/text.hpp src/common/unique_fd.hpp src/log/log.hpp
src/mailbox/mailbox_lock.hpp:
src/mailbox/maildrop.hpp:
src/common/text.hpp:
src/common/unique_fd.hpp:
src/log/log.hpp:
