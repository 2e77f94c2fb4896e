// TLS with OpenSSL 3.
#include "tls/tls.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>

namespace pop3d::tls {

namespace {

std::string openssl_errors() {
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out.empty() ? "unknown TLS error" : out;
}

struct CtxDeleter {
    void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct SslDeleter {
    void operator()(SSL* s) const noexcept { SSL_free(s); }
};

}  // namespace

class Context {
public:
    explicit Context(SSL_CTX* ctx) : ctx_(ctx) {}
    SSL_CTX* get() const { return ctx_.get(); }

private:
    std::unique_ptr<SSL_CTX, CtxDeleter> ctx_;
};

bool compiled_in() noexcept { return true; }
std::string library_version() { return OpenSSL_version(OPENSSL_VERSION); }

std::shared_ptr<Context> load(const Settings& s, std::string& error) {
    ERR_clear_error();
    std::unique_ptr<SSL_CTX, CtxDeleter> ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) {
        error = openssl_errors();
        return nullptr;
    }
    const int min = s.min_protocol == "TLSv1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;  // RFC 8314 §4.1
    SSL_CTX_set_min_proto_version(ctx.get(), min);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    // Partial writes for non-blocking I/O; buffers freed while a connection idles.
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                    SSL_MODE_RELEASE_BUFFERS);
    static const unsigned char sid_ctx[] = "pop3d";
    SSL_CTX_set_session_id_context(ctx.get(), sid_ctx, sizeof sid_ctx - 1);
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), s.cert.c_str()) != 1) {
        error = "certificate " + s.cert + ": " + openssl_errors();
        return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), s.key.c_str(), SSL_FILETYPE_PEM) != 1) {
        error = "private key " + s.key + ": " + openssl_errors();
        return nullptr;
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
        error = "the private key " + s.key + " does not match the certificate " + s.cert;
        return nullptr;
    }
    if (!s.ciphers.empty() && SSL_CTX_set_cipher_list(ctx.get(), s.ciphers.c_str()) != 1) {
        error = "tls_ciphers '" + s.ciphers + "': " + openssl_errors();
        return nullptr;
    }
    return std::make_shared<Context>(ctx.release());
}

class OpenSslStream final : public Stream {
public:
    OpenSslStream(SSL* ssl) : ssl_(ssl) {}

    Io handshake() override { return result(SSL_accept(ssl_.get())); }

    Io read(char* buf, std::size_t len, std::size_t& got) override {
        got = 0;
        const Io io = result(SSL_read_ex(ssl_.get(), buf, len, &got));
        if (io == Io::error && closed_) return Io::eof;
        return io;
    }

    Io write(const char* buf, std::size_t len, std::size_t& written) override {
        written = 0;
        return result(SSL_write_ex(ssl_.get(), buf, len, &written));
    }

    void close_notify() noexcept override {
        if (!closed_) SSL_shutdown(ssl_.get());  // one attempt; we do not wait for the peer's
    }

    std::string last_error() const override { return error_; }

    std::string description() const override {
        return std::string(SSL_get_version(ssl_.get())) + " " + SSL_get_cipher_name(ssl_.get());
    }

private:
    // Maps a return value (1 good, <= 0 not) to what the caller should do.
    Io result(int rc) {
        if (rc == 1) return Io::ok;
        const int e = SSL_get_error(ssl_.get(), rc);
        switch (e) {
        case SSL_ERROR_WANT_READ: return Io::want_read;
        case SSL_ERROR_WANT_WRITE: return Io::want_write;
        case SSL_ERROR_ZERO_RETURN:
            closed_ = true;
            return Io::eof;
        case SSL_ERROR_SYSCALL:
            closed_ = true;  // the peer closed the TCP connection, or an I/O error
            error_ = errno ? std::strerror(errno) : "connection closed";
            ERR_clear_error();
            return Io::eof;
        default:
            closed_ = true;
            error_ = openssl_errors();
            return Io::error;
        }
    }

    std::unique_ptr<SSL, SslDeleter> ssl_;
    bool closed_ = false;
    std::string error_;
};

std::unique_ptr<Stream> new_stream(Context& context, int fd) {
    SSL* ssl = SSL_new(context.get());
    if (!ssl) return nullptr;
    if (SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        return nullptr;
    }
    return std::make_unique<OpenSslStream>(ssl);
}

}  // namespace pop3d::tls
