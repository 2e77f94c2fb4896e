#include "mailbox/uid_compat.hpp"

#include "common/text.hpp"
#include "mailbox/mbox_grammar.hpp"
#include "mailbox/md5.hpp"

#include <algorithm>

#include <cstdio>
#include <limits>

namespace pop3d::mailbox::compat {

namespace {

// Calls f(line) for each line of header up to the empty line that ends it;
// a line keeps its LF (the last may lack one). f returns false to stop.
template <typename F>
void for_each_header_line(std::string_view header, F f) {
    while (!header.empty()) {
        const std::size_t lf = header.find('\n');
        const std::size_t len = lf == std::string_view::npos ? header.size() : lf + 1;
        const std::string_view line = header.substr(0, len);
        header.remove_prefix(len);
        if (!f(line)) return;
    }
}

bool starts_ci(std::string_view line, std::string_view name) {
    return line.size() >= name.size() && text::iequals(line.substr(0, name.size()), name);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Leading decimal digits of s, consumed; nothing when there are none or the
// value does not fit 32 bits (neither peer writes such a value).
std::optional<std::uint32_t> take_u32(std::string_view& s) {
    std::uint64_t v = 0;
    std::size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) {
        v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
        if (v > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
    }
    if (i == 0) return std::nullopt;
    s.remove_prefix(i);
    return static_cast<std::uint32_t>(v);
}

void skip(std::string_view& s, std::string_view set) {
    while (!s.empty() && set.find(s.front()) != std::string_view::npos) s.remove_prefix(1);
}

bool only(std::string_view s, std::string_view set) {
    return s.find_first_not_of(set) == std::string_view::npos;
}

constexpr std::string_view kLwsp = " \t\r\n";

// "<validity> <uid_last> [keywords]". Dovecot (parse_x_imap_base): a space
// right after the validity, uid_last may be missing (0), and what follows
// it must be white space. c-client (unix_parse): spaces, then both numbers.
std::optional<ImapBase> parse_base(std::string_view v, Stamper who) {
    const auto validity = take_u32(v);
    if (!validity || *validity == 0) return std::nullopt;
    if (who == Stamper::dovecot) {
        if (!v.empty() && v.front() != ' ') return std::nullopt;
        skip(v, kLwsp);
        if (v.empty()) return ImapBase{*validity, 0};
        const auto last = take_u32(v);
        if (!last && kLwsp.find(v.front()) == std::string_view::npos) return std::nullopt;
        if (last && !v.empty() && kLwsp.find(v.front()) == std::string_view::npos) return std::nullopt;
        return ImapBase{*validity, last.value_or(0)};
    }
    skip(v, " ");
    const auto last = take_u32(v);
    if (!last) return std::nullopt;
    return ImapBase{*validity, *last};
}

// X-UID's value: Dovecot allows only white space after the digits
// (parse_x_uid), c-client ignores what follows them.
std::optional<std::uint32_t> parse_uid(std::string_view v, Stamper who) {
    const auto uid = take_u32(v);
    if (!uid) return std::nullopt;
    if (who == Stamper::dovecot && !only(v, kLwsp)) return std::nullopt;
    return uid;
}

// Splits a header line into name and value as `who` does: Dovecot's header
// parser drops white space before the colon and one blank after it
// (message-header-parser.c, no SKIP_INITIAL_LWSP in mbox sync); c-client
// compares the name with its colon byte for byte and skips spaces.
struct Field {
    std::string_view name;
    std::string_view value;
};
std::optional<Field> split_field(std::string_view line, Stamper who) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (value.ends_with('\n')) value.remove_suffix(1);  // the parsers hand over values without it
    if (value.ends_with('\r')) value.remove_suffix(1);
    if (who == Stamper::dovecot) {
        name = text::trim_trailing_blanks(name);
        if (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    } else {
        skip(value, " ");
    }
    return Field{name, value};
}

bool is_named(const Field& f, std::string_view name, Stamper who) {
    return who == Stamper::dovecot ? text::iequals(f.name, name) : f.name == name;
}

std::string hex_pair(std::uint32_t a, std::uint32_t b) {
    char out[17];
    std::snprintf(out, sizeof out, "%08x%08x", a, b);
    return out;
}

}  // namespace

std::string popa3d_uidl(std::string_view header) {
    // mailbox.c, mailbox_parse: the "fixed" header lines, decided on each
    // line's first byte; continuation lines inherit the decision.
    Md5 md5;
    bool fixed = false;
    bool received = false;
    for_each_header_line(header, [&](std::string_view line) {
        if (line == "\n") return false;
        switch (line.front()) {
        case ' ':
        case '\t':
            break;
        case 'R':
        case 'r':
            fixed = !received && (received = starts_ci(line, "Received:"));
            break;
        case 'D':
        case 'd':
            fixed = starts_ci(line, "Delivered-To:") || (!received && starts_ci(line, "Date:"));
            break;
        case 'M':
        case 'm':
            fixed = !received && starts_ci(line, "Message-ID:");
            break;
        case 'X':
            fixed = starts_ci(line, "X-Delivery-ID:");
            break;
        default:
            fixed = false;
        }
        if (fixed) md5.update(line.data(), line.size());
        return true;
    });
    const Md5::Digest h = md5.finish();
    // pop_trans.c prints bytes 3,2,1,0,7,6,5,4.
    auto word = [&](std::size_t i) {
        return static_cast<std::uint32_t>(h[i]) | static_cast<std::uint32_t>(h[i + 1]) << 8 |
               static_cast<std::uint32_t>(h[i + 2]) << 16 | static_cast<std::uint32_t>(h[i + 3]) << 24;
    };
    return hex_pair(word(0), word(4));
}

Stamps read_stamps(std::string_view header, Stamper who) {
    Stamps s;
    for_each_header_line(header, [&](std::string_view line) {
        if (line == "\n" || line == "\r\n") return false;
        if (line.front() == ' ' || line.front() == '\t') return true;  // a continuation
        const auto f = split_field(line, who);
        if (!f) return true;
        if (!s.base && is_named(*f, "X-IMAPbase", who)) {
            s.base = parse_base(f->value, who);
        } else if (!s.base && is_named(*f, "X-IMAP", who)) {
            s.base = parse_base(f->value, who);
            s.pseudo = s.base.has_value();
        } else if (!s.has_uid && is_named(*f, "X-UID", who)) {
            s.has_uid = true;
            s.uid = parse_uid(f->value, who);
            s.uid_before_base = !s.base;
        }
        return true;
    });
    return s;
}

std::string dovecot_uidl(std::uint32_t uid, std::uint32_t validity) { return hex_pair(uid, validity); }

std::string uw_uidl(std::uint32_t validity, std::uint32_t uid) { return hex_pair(validity, uid); }

StampedIds::StampedIds(Stamper who, const Stamps& first) : who_(who) {
    if (!first.base) return;
    usable_ = true;
    validity_ = first.base->validity;
    next_uid_ = static_cast<std::uint64_t>(first.base->uid_last) + 1;
}

std::optional<std::string> StampedIds::next(const Stamps& s) {
    const bool first = first_;
    first_ = false;
    if (!usable_) return std::nullopt;
    if (first && s.pseudo) return std::nullopt;
    // Both peers believe an X-UID of message 1 only after its X-IMAPbase.
    const std::optional<std::uint32_t> uid = first && s.uid_before_base ? std::nullopt : s.uid;
    return who_ == Stamper::dovecot ? next_dovecot(uid) : next_uw(uid);
}

// mbox-sync-parse.c parse_x_uid: an X-UID is kept when it exceeds the
// previous message's uid and does not exceed the next uid to give
// (uid_last + 1, raised as stamped uids reach it). A message without one
// takes that next uid (mbox_sync_loop): pop3d cannot know whether Dovecot
// showed it (Dovecot stamps every message it lists, when it can write), so it
// gets pop3d's own id, and later X-UIDs are judged as Dovecot would.
std::optional<std::string> StampedIds::next_dovecot(std::optional<std::uint32_t> uid) {
    if (uid && *uid > prev_uid_ && *uid <= next_uid_) {
        if (*uid == next_uid_) ++next_uid_;
        prev_uid_ = *uid;
        return dovecot_uidl(*uid, validity_);
    }
    prev_uid_ = next_uid_++;
    return std::nullopt;
}

// unix.c unix_parse: an X-UID is kept when it exceeds the previous one (no
// upper bound). Any other would make c-client start a new validity and
// renumber everything at its next session: a file UW last wrote has none,
// so such a message came after UW's last session and gets pop3d's id.
std::optional<std::string> StampedIds::next_uw(std::optional<std::uint32_t> uid) {
    if (uid && *uid > prev_uid_) {
        prev_uid_ = *uid;
        return uw_uidl(validity_, *uid);
    }
    return std::nullopt;
}

void PeerIds::begin() {
    state_ = State::from_line;
    keeping_ = false;
    overflow_ = false;
    decided_ = false;
    id_.reset();
    from_line_.clear();
    name_.clear();
    kept_.clear();
}

void PeerIds::feed(const char* p, std::size_t n) {
    std::size_t i = 0;
    while (i < n) {
        switch (state_) {
        case State::from_line: i = take_from_line(p, i, n); break;
        case State::line_start: i = start_line(p, i); break;
        case State::name: i = take_name(p, i, n); break;
        case State::keep:
        case State::skip: i = take_line(p, i, n); break;
        case State::body: return;  // no peer reads past the header
        }
    }
}

std::size_t PeerIds::take_from_line(const char* p, std::size_t i, std::size_t n) {
    const std::size_t lf = mbox::find_lf(p, i, n);
    from_line_.append(p + i, std::min(lf - i, kMaxFromLine - std::min(kMaxFromLine, from_line_.size())));
    if (lf == n) return n;
    state_ = State::line_start;
    return lf + 1;
}

// A continuation goes with its field; the empty line ends the header;
// anything else is a field whose name decides.
std::size_t PeerIds::start_line(const char* p, std::size_t i) {
    const char c = p[i];
    if (c == ' ' || c == '\t') {
        state_ = keeping_ ? State::keep : State::skip;
    } else {
        name_.clear();
        state_ = State::name;
    }
    return i;
}

// The first bytes of a line, up to kNameProbe or its end, decide it.
std::size_t PeerIds::take_name(const char* p, std::size_t i, std::size_t n) {
    const std::size_t lf = mbox::find_lf(p, i, n);
    const std::size_t take = std::min(lf, i + (kNameProbe - name_.size()));
    name_.append(p + i, take - i);
    if (take == n) return n;  // more of the name in the next chunk
    if (take == lf && mbox::empty_line(name_.size(), mbox::bare_lf(name_.empty() ? '\n' : name_.back()))) {
        state_ = State::body;
        decide();
        return n;
    }
    keeping_ = wanted(name_);
    if (keeping_) keep(name_.data(), name_.size());
    state_ = keeping_ ? State::keep : State::skip;
    return take;
}

std::size_t PeerIds::take_line(const char* p, std::size_t i, std::size_t n) {
    const std::size_t lf = mbox::find_lf(p, i, n);
    const std::size_t end = lf < n ? lf + 1 : n;
    if (state_ == State::keep) keep(p + i, end - i);
    if (lf < n) state_ = State::line_start;
    return end;
}

// Every name a peer reads, as a prefix in any case: the peers' own parsers
// (popa3d_uidl, read_stamps) then decide exactly.
bool PeerIds::wanted(std::string_view line) const {
    static constexpr std::string_view kPopa3d[] = {"received", "delivered-to", "date", "message-id", "x-delivery-id"};
    static constexpr std::string_view kStamps[] = {"x-imap", "x-uid"};
    const auto starts = [&](std::string_view name) {
        return line.size() >= name.size() && text::iequals(line.substr(0, name.size()), name);
    };
    if (options_.peer == Peer::popa3d) return std::any_of(std::begin(kPopa3d), std::end(kPopa3d), starts);
    return std::any_of(std::begin(kStamps), std::end(kStamps), starts);
}

void PeerIds::keep(const char* p, std::size_t n) {
    if (kept_.size() + n > kMaxKept) overflow_ = true;
    else kept_.append(p, n);
}

std::optional<std::string> PeerIds::finish() {
    if (!decided_) decide();  // a message that is all header
    return std::move(id_);
}

// At the end of the header: the id depends on nothing after it.
void PeerIds::decide() {
    decided_ = true;
    if (options_.peer == Peer::none || overflow_) return;
    if (options_.peer == Peer::popa3d) {
        if (options_.until) {
            const auto t = from_line_time(from_line_);
            if (!t || *t > *options_.until) return;  // after the switch, or no date to tell
        }
        id_ = popa3d_uidl(kept_);
        return;
    }
    const Stamper who = options_.peer == Peer::dovecot ? Stamper::dovecot : Stamper::uw;
    const Stamps stamps = read_stamps(kept_, who);
    if (!stamped_) stamped_.emplace(who, stamps);
    id_ = stamped_->next(stamps);
}

}  // namespace pop3d::mailbox::compat
