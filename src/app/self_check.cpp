#include "app/self_check.hpp"

#include "app/daemon.hpp"
#include "app/self_check_parts.hpp"
#include "app/serve.hpp"
#include "build_config.h"
#include "common/text.hpp"
#include "net/listen_address.hpp"
#include "net/listener.hpp"
#include "priv/credentials.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>

namespace pop3d::app {

std::size_t CheckReport::count(Level level) const {
    return static_cast<std::size_t>(
        std::count_if(findings_.begin(), findings_.end(), [&](const Finding& f) { return f.level == level; }));
}

namespace check {

namespace {

// Whether a PAM file has a rule with pam_deny (Debian's "other" includes
// the common-* files instead; other systems' "other" denies).
bool has_pam_deny(const std::string& path) {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        const std::string_view l = text::trim(line);
        if (!l.empty() && l.front() != '#' && l.find("pam_deny") != std::string_view::npos) return true;
    }
    return false;
}

}  // namespace

// Linux-PAM reads DIR/SERVICE (DIR: pam_confdir, else /etc/pam.d, or
// /etc/pam.conf when /etc/pam.d does not exist); without it, DIR/other.
void pam(const config::Config& c, CheckReport& r) {
    const std::string dir = c.pam_confdir.empty() ? "/etc/pam.d" : c.pam_confdir;
    const std::string file = dir + "/" + c.pam_service;
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0) {
        r.ok("PAM service file " + file + " exists");
        return;
    }
    if (c.pam_confdir.empty() && ::stat(dir.c_str(), &st) != 0) {
        if (::stat("/etc/pam.conf", &st) == 0)
            r.warning("no /etc/pam.d: PAM reads /etc/pam.conf, whose entry for " + c.pam_service + " is not checked");
        else
            r.error("no PAM configuration at all (neither /etc/pam.d nor /etc/pam.conf): every login fails");
        return;
    }
    const std::string other = dir + "/other";
    const std::string hint = " (copy " POP3D_DOCDIR "/examples/pam.d/pop3 to " + file + ")";
    if (::stat(other.c_str(), &st) != 0)
        r.error("no PAM service file " + file + " and no " + other + ": every login fails" + hint);
    else if (has_pam_deny(other))
        r.error("no PAM service file " + file + ": PAM uses " + other + ", which denies every login (pam_deny)" +
                hint);
    else
        r.warning("no PAM service file " + file + ": PAM uses " + other + " for pop3d" + hint);
}

// Needed to create dotlocks in a root:mail 2775 spool.
std::optional<gid_t> mail_group(const config::Config& c, CheckReport& r) {
    if (c.mail_group.empty()) return std::nullopt;
    const std::optional<gid_t> gid = priv::lookup_group(c.mail_group);
    if (!gid) r.error("mail_group '" + c.mail_group + "' does not exist");
    else r.ok("mail group '" + c.mail_group + "' is gid " + std::to_string(*gid));
    return gid;
}

// Each listen address is bound for a moment, so that every problem is
// named. The standalone daemon only: inetd and systemd pass sockets in.
void listen(const config::Config& c, CheckReport& r) {
    std::string error;
    for (const net::ListenAddress& a : c.listen.value) {
        const auto bound = net::bind_listeners({a}, error);
        if (!bound.empty())
            r.ok("can listen on " + a.text());
        else if (error.ends_with(text::errno_text(EADDRINUSE)))
            r.warning("cannot listen on " + error +
                      " (a running pop3d or another server has it; the standalone daemon needs it free)");
        else if (error.ends_with(text::errno_text(EACCES)) && ::geteuid() != 0)
            r.warning("cannot listen on " + error + " (ports below 1024 need root: run pop3d -t as root)");
        else
            r.error("cannot listen on " + error);
    }
}

namespace {

// Whether every directory on the way to path lets others pass (o+x), for
// the path as written and as resolved (symbolic links).
bool reachable_by_others(const std::string& path) {
    std::vector<std::string> paths{path};
    if (char* real = ::realpath(path.c_str(), nullptr)) {
        paths.emplace_back(real);
        std::free(real);
    }
    for (const std::string& p : paths) {
        for (std::string dir = text::parent_of(p);; dir = text::parent_of(dir)) {
            struct stat st {};
            if (::stat(dir.c_str(), &st) != 0 || !(st.st_mode & S_IXOTH)) return false;
            if (dir == "/") break;
        }
    }
    return true;
}

// The private key is the server's identity: who can read it can pose as it.
void key_access(const std::string& key, CheckReport& r) {
    struct stat st {};
    if (::stat(key.c_str(), &st) != 0) return;  // the load above said why
    if ((st.st_mode & S_IROTH) && reachable_by_others(key))
        r.warning("tls_key " + key + " is readable by every local user (" + describe(st) +
                  "): anyone can pose as this server; chmod 600 it (or 640 root:ssl-cert)");
    else if ((st.st_mode & S_IRGRP) && st.st_gid != 0)
        r.ok("tls_key " + key + " is readable by group " + group_name(st.st_gid) + " too (" + describe(st) + ")");
    if (st.st_mode & S_IWOTH) r.warning("tls_key " + key + " is writable by everyone (" + describe(st) + ")");
}

}  // namespace

// The files must load, and whatever asks for TLS must have it.
void tls(const config::Config& c, CheckReport& r) {
    const bool wants_tls = c.implicit_tls || std::ranges::any_of(c.listen.value, &net::ListenAddress::tls);
    if (!c.tls_configured()) {
        if (wants_tls) r.error("implicit TLS (/tls listener or implicit_tls) needs tls_cert and tls_key");
        return;
    }
    std::string error;
    if (load_tls(c, error)) r.ok("TLS certificate " + c.tls_cert + " and key " + c.tls_key + " load");
    else r.error("TLS: " + error);
    key_access(c.tls_key, r);
    if (c.allow_plaintext_auth) r.warning("allow_plaintext_auth: passwords may cross the network unencrypted");
}

}  // namespace check

CheckReport check_setup(const config::Config& c) {
    CheckReport r;
    check::identity(c, r);
    check::pam(c, r);
    const std::optional<gid_t> mail_gid = check::mail_group(c, r);
    check::spool(c, mail_gid, r);
    check::state_dirs(c, r);
    check::pid_file(c, r);
    check::logging(c, r);
    check::listen(c, r);
    check::tls(c, r);
    if (!c.proxy_trusted.text.empty())
        r.ok("connections from " + c.proxy_trusted.text +
             " must begin with a PROXY header, which names the client (proxy_trusted)");
    return r;
}

int run_self_check(const ConfigSource& source, std::ostream& out) {
    const config::LoadResult loaded = source.load();
    CheckReport r;
    struct stat st {};
    if (!source.file_required && ::stat(source.file.c_str(), &st) != 0 && errno == ENOENT)
        r.ok("no " + source.file + ": the built-in defaults apply");
    for (const config::Problem& e : loaded.errors) r.error(e.text());
    for (const config::Problem& w : loaded.warnings) r.warning(w.text());
    // With errors in it, the configuration is not what will run: its setup is checked once they are fixed.
    if (loaded.ok()) r.append(check_setup(loaded.config));

    static constexpr const char* kPrefix[] = {"ok: ", "warning: ", "error: "};
    for (const Finding& f : r.findings()) out << kPrefix[static_cast<int>(f.level)] << f.text << '\n';
    const std::size_t errors = r.count(Level::error);
    const std::size_t warnings = r.count(Level::warning);
    if (errors == 0)
        out << "configuration OK (" << source.file << ")"
            << (warnings ? ": " + text::count(warnings, "warning") : std::string()) << '\n';
    else
        out << "configuration has errors (" << source.file << "): " << text::count(errors, "error")
            << (warnings ? ", " + text::count(warnings, "warning") : std::string()) << '\n';
    out.flush();
    return errors == 0 ? 0 : 1;
}

}  // namespace pop3d::app
