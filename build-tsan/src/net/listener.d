build-tsan/src/net/listener.o: src/net/listener.cpp src/net/listener.hpp \
 src/common/unique_fd.hpp src/net/listen_address.hpp src/common/text.hpp
src/net/listener.hpp:
src/common/unique_fd.hpp:
src/net/listen_address.hpp:
src/common/text.hpp:
