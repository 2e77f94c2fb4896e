build-tsan/src/mailbox/mbox_index.o: src/mailbox/mbox_index.cpp \
 src/mailbox/mbox_index.hpp
src/mailbox/mbox_index.hpp:
