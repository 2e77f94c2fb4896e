build-tsan/src/session/command.o: src/session/command.cpp \
 src/session/command.hpp src/common/text.hpp
src/session/command.hpp:
src/common/text.hpp:
