build-tsan/src/session/session.o: src/session/session.cpp \
 src/session/session.hpp src/auth/authenticator.hpp src/auth/account.hpp \
 src/common/clock.hpp src/mailbox/maildrop.hpp \
 src/session/line_reader.hpp src/session/maildrop_opener.hpp \
 src/session/output_buffer.hpp src/session/transport.hpp \
 src/auth/username.hpp src/common/text.hpp src/log/log.hpp \
 src/session/command.hpp src/session/responses.hpp
src/session/session.hpp:
src/auth/authenticator.hpp:
src/auth/account.hpp:
src/common/clock.hpp:
src/mailbox/maildrop.hpp:
src/session/line_reader.hpp:
src/session/maildrop_opener.hpp:
src/session/output_buffer.hpp:
src/session/transport.hpp:
src/auth/username.hpp:
src/common/text.hpp:
src/log/log.hpp:
src/session/command.hpp:
src/session/responses.hpp:
