#include "mailbox/uid.hpp"

#include "common/text.hpp"

#include <algorithm>
#include <cstring>

namespace pop3d::mailbox {

namespace {
constexpr std::size_t kMaxXuidlBytes = 256;
}  // namespace

bool valid_uid(std::string_view uid) noexcept {
    if (uid.empty() || uid.size() > kMaxUidLength) return false;
    for (unsigned char c : uid)
        if (c < 0x21 || c > 0x7e) return false;
    return true;
}

void UidHasher::begin() {
    sha_.reset();
    state_ = State::from_line;
    field_action_ = Action::include;
    name_len_ = 0;
    head_len_ = 0;
    seen_xuidl_ = false;
    xuidl_valid_ = false;
    xuidl_.clear();
    last_byte_ = '\n';
}

void UidHasher::decide_field() {
    const std::string_view name = text::trim_trailing_blanks(std::string_view(name_, name_len_));
    field_action_ = Action::include;
    for (std::string_view v : kVolatileHeaders)
        if (text::iequals(name, v)) field_action_ = Action::exclude;
    if (!seen_xuidl_ && text::iequals(name, "X-UIDL")) {
        seen_xuidl_ = true;
        xuidl_valid_ = true;
        field_action_ = Action::xuidl;
    }
}

void UidHasher::feed(const char* p, std::size_t n) {
    if (n > 0) last_byte_ = p[n - 1];
    std::size_t i = 0;
    while (i < n) {
        switch (state_) {
        case State::from_line: {
            for (std::size_t k = i; k < n && head_len_ < sizeof head_; ++k) head_[head_len_++] = p[k];
            const void* hit = std::memchr(p + i, '\n', n - i);
            const std::size_t end = hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - p) + 1 : n;
            hash(p + i, end - i);
            i = end;
            if (hit) state_ = State::line_start;
            break;
        }
        case State::line_start: {
            const char c = p[i];
            if (c == ' ' || c == '\t') {
                if (field_action_ == Action::xuidl) {
                    xuidl_valid_ = false;  // folded X-UIDL: not a usable id
                    field_action_ = Action::include;
                }
                state_ = field_action_ == Action::exclude ? State::exclude : State::include;
            } else if (c == '\n') {
                hash(p + i, 1);
                ++i;
                state_ = State::body;
            } else {
                name_len_ = 0;
                state_ = State::collect;
            }
            break;
        }
        case State::collect: {
            const char c = p[i];
            if (c == ':') {
                decide_field();
                if (field_action_ != Action::exclude) {
                    hash(name_, name_len_);
                    hash(p + i, 1);
                }
                ++i;
                state_ = field_action_ == Action::exclude ? State::exclude
                         : field_action_ == Action::xuidl ? State::xuidl
                                                          : State::include;
            } else if (c == '\n') {
                hash(name_, name_len_);
                hash(p + i, 1);
                ++i;
                const bool blank = name_len_ == 1 && name_[0] == '\r';
                field_action_ = Action::include;
                state_ = blank ? State::body : State::line_start;
            } else if (name_len_ < sizeof name_) {
                name_[name_len_++] = c;
                ++i;
            } else {  // longer than any volatile header name
                hash(name_, name_len_);
                field_action_ = Action::include;
                state_ = State::include;
            }
            break;
        }
        case State::include:
        case State::exclude:
        case State::xuidl: {
            const void* hit = std::memchr(p + i, '\n', n - i);
            const std::size_t end = hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - p) + 1 : n;
            if (state_ != State::exclude) hash(p + i, end - i);
            if (state_ == State::xuidl) {
                if (xuidl_.size() + (end - i) > kMaxXuidlBytes) xuidl_valid_ = false;
                else xuidl_.append(p + i, end - i);
            }
            i = end;
            if (hit) state_ = State::line_start;
            break;
        }
        case State::body:
            hash(p + i, n - i);
            i = n;
            break;
        }
    }
}

bool UidHasher::finish(MessageEntry& entry, std::string& override_uid) {
    // A message that does not end in LF (the last one, in a file without a
    // final newline) is hashed as if the LF were there: an MDA that ends the
    // line before it appends the next message must not change this id. Fed
    // through the parser, so the header state ends as it would with the LF.
    if (last_byte_ != '\n') feed("\n", 1);
    const auto digest = sha_.finish();
    std::copy_n(digest.begin(), entry.digest.size(), entry.digest.begin());
    entry.dup = 0;
    entry.flags &= ~MessageEntry::kHasOverride;
    override_uid.clear();
    if (xuidl_valid_) {
        const std::string_view v = text::trim(xuidl_);
        if (valid_uid(v)) {
            override_uid.assign(v);
            entry.flags |= MessageEntry::kHasOverride;
        }
    }
    return head_len_ == 5 && std::memcmp(head_, "From ", 5) == 0;
}

}  // namespace pop3d::mailbox
