build-tsan/src/log/log.o: src/log/log.cpp src/log/log.hpp \
 src/common/text.hpp src/common/unique_fd.hpp
src/log/log.hpp:
src/common/text.hpp:
src/common/unique_fd.hpp:
