// libFuzzer target: the config parser. A text that parses without errors
// dumps to a text that parses to the same configuration.
#include "config/config.hpp"

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace pop3d;


extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    config::Config cfg = config::defaults();
    std::vector<config::Problem> errors;
    config::parse_text(text, "fuzz.conf", cfg, errors);
    // The same text as one -o override per line must not crash either.
    config::Config over = config::defaults();
    std::vector<config::Problem> over_errors;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t nl = std::min(text.find('\n', start), text.size());
        config::apply_override(text.substr(start, nl - start), over, over_errors);
        start = nl + 1;
    }
    if (!errors.empty()) return 0;
    const std::string dumped = config::dump(cfg);
    config::Config again = config::defaults();
    std::vector<config::Problem> again_errors;
    config::parse_text(dumped, "dump", again, again_errors);
    FUZZ_REQUIRE(again_errors.empty());
    FUZZ_REQUIRE(config::dump(again) == dumped);
    return 0;
}
