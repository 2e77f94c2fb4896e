build-tsan/src/mailbox/message_encoder.o: src/mailbox/message_encoder.cpp \
 src/mailbox/message_encoder.hpp src/mailbox/maildrop.hpp
src/mailbox/message_encoder.hpp:
src/mailbox/maildrop.hpp:
