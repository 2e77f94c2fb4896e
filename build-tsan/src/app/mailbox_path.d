build-tsan/src/app/mailbox_path.o: src/app/mailbox_path.cpp \
 src/app/mailbox_path.hpp src/auth/account.hpp
src/app/mailbox_path.hpp:
src/auth/account.hpp:
