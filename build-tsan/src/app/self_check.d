build-tsan/src/app/self_check.o: src/app/self_check.cpp \
 src/app/self_check.hpp src/config/config.hpp src/priv/credentials.hpp \
 src/auth/account.hpp src/mailbox/mailbox_lock.hpp \
 src/mailbox/maildrop.hpp
src/app/self_check.hpp:
src/config/config.hpp:
src/priv/credentials.hpp:
src/auth/account.hpp:
src/mailbox/mailbox_lock.hpp:
src/mailbox/maildrop.hpp:
