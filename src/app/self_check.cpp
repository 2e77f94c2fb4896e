#include "app/self_check.hpp"

#include "app/serve.hpp"
#include "common/filesystem_kind.hpp"
#include "common/text.hpp"
#include "net/listen_address.hpp"
#include "net/listener.hpp"
#include "priv/credentials.hpp"

#include <sys/stat.h>
#include <unistd.h>

namespace pop3d::app {

namespace {

std::string octal_mode(mode_t m) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
    return buf;
}

// Each listen address is bound for a moment, so that every problem is named.
void check_listen(const config::Config& c, CheckReport& r) {
    std::string error;
    const auto addresses = net::parse_listen_list(c.listen, &error);
    if (!addresses) {
        r.errors.push_back("listen: " + error);
        return;
    }
    for (const net::ListenAddress& a : *addresses) {
        const auto bound = net::bind_listeners({a}, error);
        if (!bound.empty()) {
            r.notes.push_back("can listen on " + a.text());
        } else if (error.ends_with(text::errno_text(EADDRINUSE))) {
            r.warnings.push_back("cannot listen on " + error +
                                 " (a running pop3d or another server has it; the standalone daemon needs it free)");
        } else if (error.ends_with(text::errno_text(EACCES)) && ::geteuid() != 0) {
            r.warnings.push_back("cannot listen on " + error + " (ports below 1024 need root: run pop3d -t as root)");
        } else {
            r.errors.push_back("cannot listen on " + error);
        }
    }
}

}  // namespace

CheckReport check_setup(const config::Config& c) {
    CheckReport r;

    if (!c.proxy_trusted.empty())
        r.notes.push_back("connections from " + c.proxy_trusted +
                          " must begin with a PROXY header, which names the client (proxy_trusted)");

    // PAM: the service file must exist, or PAM falls back to "other" (deny on Debian).
    const std::string dir = c.pam_confdir.empty() ? "/etc/pam.d" : c.pam_confdir;
    const std::string service_file = dir + "/" + c.pam_service;
    struct stat st {};
    if (::stat(service_file.c_str(), &st) == 0) r.notes.push_back("PAM service file " + service_file + " exists");
    else if (c.pam_confdir.empty() && ::stat("/etc/pam.conf", &st) == 0)
        r.warnings.push_back("no " + service_file + "; PAM will use /etc/pam.conf or the 'other' service");
    else
        r.errors.push_back("no PAM service file " + service_file + " (install contrib/pam.d/pop3 there)");

    // Mail group: needed to create dotlocks in a root:mail 2775 spool.
    std::optional<gid_t> mail_gid;
    if (!c.mail_group.empty()) {
        mail_gid = priv::lookup_group(c.mail_group);
        if (!mail_gid) r.errors.push_back("mail_group '" + c.mail_group + "' does not exist");
        else r.notes.push_back("mail group '" + c.mail_group + "' is gid " + std::to_string(*mail_gid));
    }

    // Spool directory: the fixed part of the pattern before the first escape.
    const std::size_t pct = c.mailbox.find('%');
    const std::string fixed = c.mailbox.substr(0, pct);
    const std::size_t slash = fixed.rfind('/');
    if (pct != std::string::npos && fixed.rfind("%h", 0) != 0 && slash != std::string::npos && slash > 0 &&
        fixed.find('/', slash + 1) == std::string::npos && c.mailbox.find('/', pct) == std::string::npos) {
        const std::string spool = fixed.substr(0, slash);
        if (::stat(spool.c_str(), &st) != 0) {
            r.errors.push_back("spool directory " + spool + " does not exist");
        } else if (!S_ISDIR(st.st_mode)) {
            r.errors.push_back(spool + " is not a directory");
        } else {
            r.notes.push_back("spool directory " + spool + " is mode " + octal_mode(st.st_mode) + " uid " +
                              std::to_string(st.st_uid) + " gid " + std::to_string(st.st_gid));
            if (st.st_uid != 0 && st.st_uid != ::geteuid())
                r.warnings.push_back(spool + " is owned by uid " + std::to_string(st.st_uid) +
                                     ", not root: that user can replace anyone's mailbox");
            if (st.st_mode & S_IWOTH && !(st.st_mode & S_ISVTX))
                r.warnings.push_back(spool + " is world-writable without the sticky bit");
            if (mail_gid && !(st.st_gid == *mail_gid && (st.st_mode & S_IWGRP)) && !(st.st_mode & S_IWOTH))
                r.warnings.push_back(spool + " is not writable by group " + c.mail_group +
                                     ": pop3d cannot create dotlocks there (Debian uses root:mail 2775)");
            if (on_shared_filesystem(spool)) {
                r.notes.push_back(spool + " is on a shared filesystem: only their age makes dotlocks there stale");
                if (c.session_lock_dir.empty() || !on_shared_filesystem(c.session_lock_dir))
                    r.warnings.push_back("the spool is shared, but session_lock_dir " +
                                         (c.session_lock_dir.empty() ? std::string("is off") : "is local") +
                                         ": a session on another host does not exclude one here "
                                         "(pop3d(8), SHARED SPOOL)");
            }
        }
    }
    if (!c.runtime_dir.empty() && on_shared_filesystem(c.runtime_dir))
        r.warnings.push_back("runtime_dir " + c.runtime_dir +
                             " is on a shared filesystem: its failed-login table is shared memory; keep it local");
    // Standalone daemon only: inetd and systemd pass the sockets in.
    check_listen(c, r);
    if (c.idle_timeout < 600) r.warnings.push_back("idle_timeout below the 600 seconds RFC 1939 requires");

    // TLS: the files must load, and whatever asks for TLS must have it.
    std::string tls_error;
    const bool wants_tls = c.tls_configured() || c.implicit_tls || c.listen.find("/tls") != std::string::npos;
    if (c.tls_configured()) {
        if (load_tls(c, tls_error)) r.notes.push_back("TLS certificate " + c.tls_cert + " and key " + c.tls_key + " load");
        else r.errors.push_back("TLS: " + tls_error);
        if (c.allow_plaintext_auth)
            r.warnings.push_back("allow_plaintext_auth: passwords may cross the network unencrypted");
    } else if (wants_tls) {
        r.errors.push_back("implicit TLS (/tls listener or implicit_tls) needs tls_cert and tls_key");
    }
    return r;
}

}  // namespace pop3d::app
