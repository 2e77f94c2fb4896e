build-tsan/src/priv/credentials.o: src/priv/credentials.cpp \
 src/priv/credentials.hpp src/auth/account.hpp \
 src/mailbox/mailbox_lock.hpp src/mailbox/maildrop.hpp \
 src/common/text.hpp
src/priv/credentials.hpp:
src/auth/account.hpp:
src/mailbox/mailbox_lock.hpp:
src/mailbox/maildrop.hpp:
src/common/text.hpp:
