// TLS for STLS (RFC 2595) and implicit TLS (RFC 8314), behind a small
// interface: built with OpenSSL 3 (./configure --with-openssl) or as stubs
// that say "not available", so the default build needs no OpenSSL.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace pop3d::tls {

bool compiled_in() noexcept;
// "OpenSSL 3.0.17 1 Jul 2025", or "none".
std::string library_version();

struct Settings {
    std::string cert;          // PEM chain
    std::string key;           // PEM private key
    std::string min_protocol;  // "TLSv1.2" or "TLSv1.3"
    std::string ciphers;       // OpenSSL cipher list for TLS 1.2; empty: default
};

// A server context: certificate, key and protocol settings, shared by many
// connections (and replaced on SIGHUP for new ones).
class Context;
std::shared_ptr<Context> load(const Settings& settings, std::string& error);

// One TLS connection over a non-blocking socket. The calls never block:
// want_read/want_write say what to poll for before calling again.
enum class Io { ok, want_read, want_write, eof, error };

class Stream {
public:
    virtual ~Stream() = default;
    virtual Io handshake() = 0;
    virtual Io read(char* buf, std::size_t len, std::size_t& got) = 0;
    virtual Io write(const char* buf, std::size_t len, std::size_t& written) = 0;
    virtual void close_notify() noexcept = 0;  // best effort, before the TCP close
    virtual std::string last_error() const = 0;
    virtual std::string description() const = 0;  // "TLSv1.3 TLS_AES_256_GCM_SHA384"
};

std::unique_ptr<Stream> new_stream(Context& context, int fd);

}  // namespace pop3d::tls
