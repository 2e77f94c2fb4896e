build-tsan/src/common/stack.o: src/common/stack.cpp src/common/stack.hpp
src/common/stack.hpp:
