build-tsan/src/app/serve.o: src/app/serve.cpp src/app/serve.hpp \
 src/config/config.hpp src/priv/credentials.hpp src/auth/account.hpp \
 src/mailbox/mailbox_lock.hpp src/mailbox/maildrop.hpp \
 src/session/session.hpp src/auth/authenticator.hpp src/common/clock.hpp \
 src/session/line_reader.hpp src/session/maildrop_opener.hpp \
 src/session/output_buffer.hpp src/session/transport.hpp \
 src/app/spool_opener.hpp src/auth/pam_authenticator.hpp \
 src/build_config.h src/log/log.hpp src/net/fd_transport.hpp
src/app/serve.hpp:
src/config/config.hpp:
src/priv/credentials.hpp:
src/auth/account.hpp:
src/mailbox/mailbox_lock.hpp:
src/mailbox/maildrop.hpp:
src/session/session.hpp:
src/auth/authenticator.hpp:
src/common/clock.hpp:
src/session/line_reader.hpp:
src/session/maildrop_opener.hpp:
src/session/output_buffer.hpp:
src/session/transport.hpp:
src/app/spool_opener.hpp:
src/auth/pam_authenticator.hpp:
src/build_config.h:
src/log/log.hpp:
src/net/fd_transport.hpp:
