build-tsan/src/mailbox/uid.o: src/mailbox/uid.cpp src/mailbox/uid.hpp \
 src/mailbox/mbox_index.hpp src/mailbox/sha256.hpp src/common/text.hpp
src/mailbox/uid.hpp:
src/mailbox/mbox_index.hpp:
src/mailbox/sha256.hpp:
src/common/text.hpp:
