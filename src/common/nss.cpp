#include "common/nss.hpp"

#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <vector>

namespace pop3d::nss {

Lookup with_retries(const std::function<int(std::span<char> buf, bool& found)>& call, std::size_t first_size) {
    constexpr std::size_t kMaxBuffer = std::size_t{1} << 22;
    std::vector<char> buf(first_size);
    for (int attempt = 0;;) {
        bool found = false;
        errno = 0;
        int rc = call(buf, found);
        if (rc == -1 && errno == ERANGE) rc = ERANGE;  // nss_wrapper's way of saying it
        if (rc == ERANGE && buf.size() < kMaxBuffer) {
            buf.resize(buf.size() * 2);
            continue;
        }
        if (rc != 0) {
            if (++attempt < 3) continue;
            return Lookup::error;
        }
        return found ? Lookup::found : Lookup::not_found;
    }
}

namespace {

// The strings of pw live in the buffer: copy them out before it goes.
int take_user(int rc, const passwd& pw, const passwd* result, User& out, bool& found) {
    found = rc == 0 && result != nullptr;
    if (found) out = User{pw.pw_name ? pw.pw_name : "", pw.pw_uid, pw.pw_gid, pw.pw_dir ? pw.pw_dir : ""};
    return rc;
}

}  // namespace

Lookup user_by_name(const std::string& name, User& out) {
    return with_retries([&](std::span<char> buf, bool& found) {
        passwd pw{};
        passwd* result = nullptr;
        const int rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &result);
        return take_user(rc, pw, result, out, found);
    });
}

Lookup user_by_uid(uid_t uid, User& out) {
    return with_retries([&](std::span<char> buf, bool& found) {
        passwd pw{};
        passwd* result = nullptr;
        const int rc = ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &result);
        return take_user(rc, pw, result, out, found);
    });
}

Lookup group_by_name(const std::string& name, gid_t& out) {
    return with_retries([&](std::span<char> buf, bool& found) {
        group gr{};
        group* result = nullptr;
        const int rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &result);
        found = rc == 0 && result != nullptr;
        if (found) out = gr.gr_gid;
        return rc;
    });
}

Lookup group_by_gid(gid_t gid, std::string& out) {
    return with_retries([&](std::span<char> buf, bool& found) {
        group gr{};
        group* result = nullptr;
        const int rc = ::getgrgid_r(gid, &gr, buf.data(), buf.size(), &result);
        found = rc == 0 && result != nullptr;
        if (found) out = gr.gr_name ? gr.gr_name : "";
        return rc;
    });
}

}  // namespace pop3d::nss
