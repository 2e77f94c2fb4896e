build-tsan/src/mailbox/file_io.o: src/mailbox/file_io.cpp \
 src/mailbox/file_io.hpp
src/mailbox/file_io.hpp:
