build-tsan/src/auth/username.o: src/auth/username.cpp \
 src/auth/username.hpp
src/auth/username.hpp:
