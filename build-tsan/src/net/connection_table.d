build-tsan/src/net/connection_table.o: src/net/connection_table.cpp \
 src/net/connection_table.hpp
src/net/connection_table.hpp:
