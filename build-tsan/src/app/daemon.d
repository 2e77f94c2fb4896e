build-tsan/src/app/daemon.o: src/app/daemon.cpp src/app/daemon.hpp \
 src/config/config.hpp src/net/listener.hpp src/common/unique_fd.hpp \
 src/net/listen_address.hpp src/app/serve.hpp src/priv/credentials.hpp \
 src/auth/account.hpp src/mailbox/mailbox_lock.hpp \
 src/mailbox/maildrop.hpp src/session/session.hpp \
 src/auth/authenticator.hpp src/common/clock.hpp \
 src/session/line_reader.hpp src/session/maildrop_opener.hpp \
 src/session/output_buffer.hpp src/session/transport.hpp \
 src/auth/pam_authenticator.hpp src/common/text.hpp src/log/log.hpp \
 src/net/connection_table.hpp src/net/fd_transport.hpp \
 src/net/stop_flag.hpp src/net/systemd.hpp
src/app/daemon.hpp:
src/config/config.hpp:
src/net/listener.hpp:
src/common/unique_fd.hpp:
src/net/listen_address.hpp:
src/app/serve.hpp:
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
src/auth/pam_authenticator.hpp:
src/common/text.hpp:
src/log/log.hpp:
src/net/connection_table.hpp:
src/net/fd_transport.hpp:
src/net/stop_flag.hpp:
src/net/systemd.hpp:
