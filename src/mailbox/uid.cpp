#include "mailbox/uid.hpp"

#include "common/text.hpp"
#include "mailbox/mbox_grammar.hpp"

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
    if (lanes_ == &own_) own_.clear();
    lanes_->begin();
    state_ = State::from_line;
    field_action_ = Action::include;
    name_len_ = 0;
    head_len_ = 0;
    skip_body_ = false;
    seen_xuidl_ = false;
    xuidl_valid_ = false;
    xuidl_.clear();
    last_byte_ = '\n';
}

// Only names that start like a volatile header or X-UIDL are compared.
void UidHasher::decide_field(std::string_view raw_name) {
    const std::string_view name = text::trim_trailing_blanks(raw_name);
    field_action_ = Action::include;
    switch (name.empty() ? 0 : name[0] | 0x20) {
    case 'c': case 'l': case 's': case 'x': break;
    default: return;
    }
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
        case State::from_line: i = from_line(p, i, n); break;
        case State::line_start:
            i = header_lines(p, i, n);
            if (i < n && state_ == State::line_start) i = start_line(p, i);
            break;
        case State::collect: i = collect_name(p, i); break;
        case State::include:
        case State::exclude:
        case State::xuidl: i = field_rest(p, i, n); break;
        case State::body:
            if (!skip_body_) hash(p + i, n - i);
            i = n;
            break;
        }
    }
}

// The From_ line is hashed whole; its first bytes are kept for finish().
[[gnu::always_inline]] inline std::size_t UidHasher::from_line(const char* p, std::size_t i, std::size_t n) {
    for (std::size_t k = i; k < n && head_len_ < sizeof head_; ++k) head_[head_len_++] = p[k];
    const std::size_t lf = mbox::find_lf(p, i, n);
    const std::size_t end = lf < n ? lf + 1 : n;
    hash(p + i, end - i);
    if (lf < n) state_ = State::line_start;
    return end;
}

// Whole header lines in p[i, n), as start_line() and the states after it
// would take them byte by byte, with one hash() for each run of lines that
// count. Stops before a line that ends past n (the byte-wise path takes it)
// or after the empty line.
std::size_t UidHasher::header_lines(const char* p, std::size_t i, std::size_t n) {
    std::size_t run = i;  // the lines [run, i) count
    auto skip_line = [&](std::size_t next) {
        hash(p + run, i - run);
        run = next;
    };
    while (i < n) {
        const std::size_t lf = mbox::find_lf(p, i, n);
        if (lf == n) break;
        const char c = p[i];
        if (c == '\n') {
            ++i;
            state_ = State::body;
            break;
        }
        if (c == ' ' || c == '\t') {  // continuation
            if (field_action_ == Action::xuidl) {
                xuidl_valid_ = false;
                field_action_ = Action::include;
            }
            if (field_action_ == Action::exclude) skip_line(lf + 1);
            i = lf + 1;
            continue;
        }
        const std::size_t limit = std::min(lf, i + sizeof name_);
        std::size_t colon = i;
        while (colon < limit && p[colon] != ':') ++colon;
        if (colon == lf) {  // no colon: the line counts as it is
            field_action_ = Action::include;
            const bool empty = mbox::empty_line(lf - i, mbox::bare_lf(p[lf - 1]));
            i = lf + 1;
            if (empty) {
                state_ = State::body;
                break;
            }
            continue;
        }
        if (p[colon] != ':') {  // a name longer than any volatile one
            field_action_ = Action::include;
            i = lf + 1;
            continue;
        }
        decide_field(std::string_view(p + i, colon - i));
        if (field_action_ == Action::exclude) skip_line(lf + 1);
        if (field_action_ == Action::xuidl) {
            const std::size_t len = lf + 1 - (colon + 1);
            if (xuidl_.size() + len > kMaxXuidlBytes) xuidl_valid_ = false;
            else xuidl_.append(p + colon + 1, len);
        }
        i = lf + 1;
    }
    hash(p + run, i - run);
    return i;
}

// A header line's first byte: a continuation of the field before, the
// empty line that ends the header section, or a field name.
[[gnu::always_inline]] inline std::size_t UidHasher::start_line(const char* p, std::size_t i) {
    const char c = p[i];
    if (c == ' ' || c == '\t') {
        if (field_action_ == Action::xuidl) {
            xuidl_valid_ = false;  // folded X-UIDL: not a usable id
            field_action_ = Action::include;
        }
        state_ = field_action_ == Action::exclude ? State::exclude : State::include;
        return i;
    }
    if (c == '\n') {
        hash(p + i, 1);
        state_ = State::body;
        return i + 1;
    }
    name_len_ = 0;
    state_ = State::collect;
    return i;
}

// A field name, up to its colon: decides whether the field is hashed.
[[gnu::always_inline]] inline std::size_t UidHasher::collect_name(const char* p, std::size_t i) {
    const char c = p[i];
    if (c == ':') {
        decide_field(std::string_view(name_, name_len_));
        if (field_action_ != Action::exclude) {
            hash(name_, name_len_);
            hash(p + i, 1);
        }
        state_ = field_action_ == Action::exclude ? State::exclude
                 : field_action_ == Action::xuidl ? State::xuidl
                                                  : State::include;
        return i + 1;
    }
    if (c == '\n') {  // a line without a colon: hashed as it is
        hash(name_, name_len_);
        hash(p + i, 1);
        const bool bare = mbox::bare_lf(name_len_ > 0 ? name_[name_len_ - 1] : '\n');
        field_action_ = Action::include;
        state_ = mbox::empty_line(name_len_, bare) ? State::body : State::line_start;
        return i + 1;
    }
    if (name_len_ < sizeof name_) {
        name_[name_len_++] = c;
        return i + 1;
    }
    hash(name_, name_len_);  // longer than any volatile header name
    field_action_ = Action::include;
    state_ = State::include;
    return i;
}

// The rest of a field's line: hashed unless the field is volatile; an
// X-UIDL value is kept too.
[[gnu::always_inline]] inline std::size_t UidHasher::field_rest(const char* p, std::size_t i, std::size_t n) {
    const std::size_t lf = mbox::find_lf(p, i, n);
    const std::size_t end = lf < n ? lf + 1 : n;
    if (state_ != State::exclude) hash(p + i, end - i);
    if (state_ == State::xuidl) {
        if (xuidl_.size() + (end - i) > kMaxXuidlBytes) xuidl_valid_ = false;
        else xuidl_.append(p + i, end - i);
    }
    if (lf < n) state_ = State::line_start;
    return end;
}

bool UidHasher::finish(MessageEntry& entry, std::string& override_uid) {
    std::size_t job = 0;
    const bool from_line = finish_queued(entry, override_uid, job);
    lanes_->run();
    const auto digest = lanes_->digest(job);
    std::copy_n(digest.begin(), entry.digest.size(), entry.digest.begin());
    return from_line;
}

bool UidHasher::finish_queued(MessageEntry& entry, std::string& override_uid, std::size_t& job) {
    // A message that does not end in LF (the last one, in a file without a
    // final newline) is hashed as if the LF were there: an MDA that ends the
    // line before it appends the next message must not change this id. Fed
    // through the parser, so the header state ends as it would with the LF.
    if (last_byte_ != '\n') feed("\n", 1);
    job = lanes_->end();
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
    return mbox::starts_with_from_line(head_, head_len_);
}

}  // namespace pop3d::mailbox
