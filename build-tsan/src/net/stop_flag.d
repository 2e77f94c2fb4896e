build-tsan/src/net/stop_flag.o: src/net/stop_flag.cpp \
 src/net/stop_flag.hpp
src/net/stop_flag.hpp:
