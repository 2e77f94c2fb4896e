build-tsan/src/config/config.o: src/config/config.cpp \
 src/config/config.hpp src/build_config.h src/common/text.hpp \
 src/log/log.hpp src/net/listen_address.hpp
src/config/config.hpp:
src/build_config.h:
src/common/text.hpp:
src/log/log.hpp:
src/net/listen_address.hpp:
