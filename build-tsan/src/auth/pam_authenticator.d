build-tsan/src/auth/pam_authenticator.o: src/auth/pam_authenticator.cpp \
 src/auth/pam_authenticator.hpp src/auth/authenticator.hpp \
 src/auth/account.hpp src/auth/username.hpp src/build_config.h \
 src/common/stack.hpp src/common/text.hpp
src/auth/pam_authenticator.hpp:
src/auth/authenticator.hpp:
src/auth/account.hpp:
src/auth/username.hpp:
src/build_config.h:
src/common/stack.hpp:
src/common/text.hpp:
