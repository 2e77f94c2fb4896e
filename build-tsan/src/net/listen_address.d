build-tsan/src/net/listen_address.o: src/net/listen_address.cpp \
 src/net/listen_address.hpp src/common/text.hpp
src/net/listen_address.hpp:
src/common/text.hpp:
