// Sends pop3d's log to a temporary file for the life of the object, so a
// test can read the lines a session wrote.
#pragma once

#include "log/log.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

namespace pop3d::testing {

class LogCapture {
public:
    LogCapture() {
        char path[] = "/tmp/pop3d-unit-log-XXXXXX";
        const int fd = ::mkstemp(path);
        if (fd >= 0) ::close(fd);
        path_ = path;
        log::use_file(path_, nullptr);
    }
    ~LogCapture() {
        log::use_stderr();
        ::unlink(path_.c_str());
    }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;
    std::string text() const {
        std::ifstream in(path_);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

private:
    std::string path_;
};

}  // namespace pop3d::testing
