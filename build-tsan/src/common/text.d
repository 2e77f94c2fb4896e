build-tsan/src/common/text.o: src/common/text.cpp src/common/text.hpp
src/common/text.hpp:
