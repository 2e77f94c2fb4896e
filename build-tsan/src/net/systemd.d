build-tsan/src/net/systemd.o: src/net/systemd.cpp src/net/systemd.hpp \
 src/common/text.hpp
src/net/systemd.hpp:
src/common/text.hpp:
