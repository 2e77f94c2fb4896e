build-tsan/src/session/line_reader.o: src/session/line_reader.cpp \
 src/session/line_reader.hpp
src/session/line_reader.hpp:
