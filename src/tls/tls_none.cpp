// The default build: no TLS. Every call says so.
#include "tls/tls.hpp"

namespace pop3d::tls {

class Context {};

bool compiled_in() noexcept { return false; }
std::string library_version() { return "none"; }

std::shared_ptr<Context> load(const Settings&, std::string& error) {
    error = "this pop3d was built without TLS (./configure --with-openssl)";
    return nullptr;
}

std::unique_ptr<Stream> new_stream(Context&, int) { return nullptr; }

}  // namespace pop3d::tls
