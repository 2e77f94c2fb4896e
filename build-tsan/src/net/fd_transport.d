build-tsan/src/net/fd_transport.o: src/net/fd_transport.cpp \
 src/net/fd_transport.hpp src/session/transport.hpp src/net/stop_flag.hpp
src/net/fd_transport.hpp:
src/session/transport.hpp:
src/net/stop_flag.hpp:
