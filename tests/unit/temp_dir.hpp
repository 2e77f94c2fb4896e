// One fresh directory under /tmp for a test, removed with all it holds when
// the test's fixture goes. The unit tests' only temp-dir code.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace pop3d::testing {

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/pop3d-unit-XXXXXX";
        if (::mkdtemp(tmpl) != nullptr) path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ignored;
        if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    bool ok() const { return !path_.empty(); }
    const std::string& path() const { return path_; }
    std::string file(const char* name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

}  // namespace pop3d::testing
