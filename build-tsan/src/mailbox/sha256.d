build-tsan/src/mailbox/sha256.o: src/mailbox/sha256.cpp \
 src/mailbox/sha256.hpp
src/mailbox/sha256.hpp:
