// Helpers for mailbox tests: index a string, serve a message from a string.
#pragma once

#include "mailbox/maildrop.hpp"
#include "mailbox/mbox_index.hpp"
#include "mailbox/message_encoder.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace pop3d::testing {

struct StringSink final : mailbox::ByteSink {
    std::string data;
    bool write(std::string_view b) override {
        data.append(b);
        return true;
    }
};

struct Indexed {
    bool ok;
    std::vector<mailbox::MessageEntry> messages;
    std::uint64_t end = 0;  // where the indexed messages end
};

// The whole input, for the Content-Length rule's look ahead.
inline mailbox::MboxSource source_of(const std::string& mbox) {
    return {mbox.size(), [&mbox](std::uint64_t offset, char* buf, std::size_t len) -> std::size_t {
                if (offset >= mbox.size()) return 0;
                return mbox.copy(buf, len, static_cast<std::size_t>(offset));
            }};
}

inline Indexed index_mbox(const std::string& mbox, bool unquote = true, std::size_t chunk = 1 << 20) {
    const mailbox::MboxSource source = source_of(mbox);
    mailbox::MboxIndexer ix(unquote, static_cast<std::size_t>(-1), &source);
    for (std::size_t i = 0; i < mbox.size(); i += chunk) ix.feed(mbox.data() + i, std::min(chunk, mbox.size() - i));
    const bool ok = ix.finish();
    return {ok, {ix.messages().begin(), ix.messages().end()}, ix.end()};
}

inline std::string encode(const std::string& content, bool unquote, bool dot_stuff,
                          std::optional<std::uint64_t> body_lines = std::nullopt, std::size_t chunk = 1 << 20) {
    StringSink sink;
    mailbox::MessageEncoder enc(sink, unquote, dot_stuff, body_lines);
    for (std::size_t i = 0; i < content.size() && !enc.done(); i += chunk)
        enc.feed(content.data() + i, std::min(chunk, content.size() - i));
    enc.finish();
    return sink.data;
}

// Message i as the client gets it, before dot-stuffing.
inline std::string served(const std::string& mbox, const mailbox::MessageEntry& m, bool unquote = true) {
    return encode(mbox.substr(m.content_offset, m.content_end - m.content_offset), m.unquoted(unquote), false);
}

}  // namespace pop3d::testing
