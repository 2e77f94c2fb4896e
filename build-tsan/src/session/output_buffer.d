build-tsan/src/session/output_buffer.o: src/session/output_buffer.cpp \
 src/session/output_buffer.hpp src/mailbox/maildrop.hpp \
 src/session/transport.hpp
src/session/output_buffer.hpp:
src/mailbox/maildrop.hpp:
src/session/transport.hpp:
