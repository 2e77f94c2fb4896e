build-tsan/src/priv/thread_credentials.o: src/priv/thread_credentials.cpp \
 src/priv/thread_credentials.hpp src/auth/account.hpp \
 src/mailbox/mailbox_lock.hpp src/mailbox/maildrop.hpp \
 src/priv/credentials.hpp src/common/text.hpp
src/priv/thread_credentials.hpp:
src/auth/account.hpp:
src/mailbox/mailbox_lock.hpp:
src/mailbox/maildrop.hpp:
src/priv/credentials.hpp:
src/common/text.hpp:
