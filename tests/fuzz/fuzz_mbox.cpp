// libFuzzer target: the mbox indexer and the RETR/TOP writer fed arbitrary
// mailbox bytes. Every message of whatever indexes is served: LIST sizes
// must equal the bytes RETR sends (less the stuffed dots), the wire form
// must match a simple model of the conversion, no line may be a lone ".",
// TOP must be a prefix of RETR, UIDs must be unique and well-formed, and an
// expunge must keep the other messages byte for byte. The Content-Length
// rule (mboxcl): a message is delimited by its length only when a model of
// the rule finds that length consistent, and otherwise the split is the
// From_ lines' own, so a length can swallow nothing it should not.
//
// Input: byte 0 = flags (bit 0 unquote, bits 1-3 chunk size, bits 4-7 TOP
// body lines; 15 also takes the real-file path; bit 1 also makes the sinks
// lend their buffer), byte 1 = which messages to delete; then the mailbox.
#include "mailbox/mbox_index.hpp"
#include "mailbox/mbox_maildrop.hpp"
#include "mailbox/message_encoder.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include "fuzz_check.hpp"

#include <cctype>
#include <cstddef>
#include <cstring>
#include <optional>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

using namespace pop3d;
using namespace pop3d::mailbox;

namespace {


// Collects what it is given. With `lend` it also lends space, as the
// session's output buffer does, so that the encoder converts straight into
// it; the span ends where its allocation ends, so ASan sees a write past it.
struct StringSink final : ByteSink {
    static constexpr std::size_t kScratch = 64 * 1024;
    explicit StringSink(bool lend_space) : lend(lend_space) {}
    bool lend;
    std::string bytes;
    char* lent = nullptr;
    bool write(std::string_view b) override {
        bytes.append(b);
        return true;
    }
    std::span<char> space(std::size_t want) override {  // a lent span may be left unused
        static const std::unique_ptr<char[]> scratch = std::make_unique_for_overwrite<char[]>(kScratch);
        if (!lend || want > kScratch) return {};
        lent = scratch.get() + kScratch - want;
        return {lent, want};
    }
    bool commit(std::size_t n) override {
        FUZZ_REQUIRE(lent != nullptr);
        bytes.append(lent, n);
        lent = nullptr;
        return true;
    }
};

// A private directory for the mailbox and its dotlock, removed at exit; on
// tmpfs where there is one, so that the expunge's fsyncs cost nothing.
struct ScratchDir {
    std::string path;
    ScratchDir() {
        std::string templ = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm/pop3d-fuzz-XXXXXX" : "/tmp/pop3d-fuzz-XXXXXX";
        FUZZ_REQUIRE(::mkdtemp(templ.data()) != nullptr);
        path = templ;
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
};

const std::string& scratch_dir() {
    static const ScratchDir dir;
    return dir.path;
}

void write_file(const std::string& path, std::string_view bytes) {
    ::unlink(path.c_str());
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FUZZ_REQUIRE(fd >= 0);
    FUZZ_REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    ::close(fd);
}

bool is_quoted_from(std::string_view line) {
    const std::size_t gts = line.find_first_not_of('>');
    return gts != 0 && gts != std::string_view::npos && line.substr(gts).starts_with("From ");
}

// The model: CRLF line ends, one '>' off ">+From " lines, a final line end
// (docs/DESIGN.md, "The mbox format, exactly").
std::string canonical(std::string_view raw, bool unquote) {
    std::string out;
    out.reserve(raw.size() + raw.size() / 4 + 2);
    std::size_t at = 0;
    while (at < raw.size()) {
        std::size_t lf = raw.find('\n', at);
        const bool has_lf = lf != std::string_view::npos;
        std::string_view line = raw.substr(at, (has_lf ? lf : raw.size()) - at);
        at = has_lf ? lf + 1 : raw.size();
        if (has_lf && line.ends_with('\r')) line.remove_suffix(1);
        if (unquote && is_quoted_from(line)) line.remove_prefix(1);
        out.append(line);
        // A last line without LF gets CRLF, or just LF after a final CR.
        out.append(!has_lf && line.ends_with('\r') ? "\n" : "\r\n");
    }
    return out;
}

// Undoes dot-stuffing; no line on the wire may be a lone "." (it would end the reply).
std::string unstuff(const std::string& wire) {
    std::string out;
    out.reserve(wire.size());
    bool line_start = true;
    for (std::size_t i = 0; i < wire.size(); ++i) {
        if (line_start && wire[i] == '.') {
            FUZZ_REQUIRE(wire.compare(i, 3, ".\r\n") != 0 && i + 1 < wire.size());
            line_start = false;
            continue;
        }
        out += wire[i];
        line_start = wire[i] == '\n';
    }
    return out;
}

// The model of the Content-Length rule for the message whose content
// starts at `content`: the body's end when its only Content-Length field is
// consistent, else nothing.
std::optional<std::uint64_t> consistent_length_end(std::string_view mbox, std::uint64_t content) {
    std::optional<std::uint64_t> length;
    int fields = 0;
    bool bad = false, last_was_length = false;
    std::uint64_t at = content;
    for (;;) {  // the header lines, up to the first empty one
        const std::size_t lf = mbox.find('\n', at);
        if (lf == std::string_view::npos) return std::nullopt;  // no body
        std::string_view line = mbox.substr(at, lf - at);
        const std::uint64_t next = lf + 1;
        if (line.ends_with('\r')) line.remove_suffix(1);
        if (line.empty()) {
            at = next;
            break;
        }
        if (line.starts_with("From ")) return std::nullopt;  // a new message before any body
        const bool continuation = line[0] == ' ' || line[0] == '\t';
        if (continuation && last_was_length) bad = true;
        if (!continuation) last_was_length = false;
        // A Content-Length line: the name in any case, then a space, a tab,
        // a colon, a CR or the line's end.
        const std::string_view raw = mbox.substr(at, lf - at);
        std::string name(raw.substr(0, std::min<std::size_t>(raw.size(), 14)));
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        const bool is_length = name == "content-length" &&
                               (raw.size() == 14 || std::string_view(" \t:\r").find(raw[14]) != std::string_view::npos);
        if (is_length) {
            ++fields;
            last_was_length = true;
            auto trim = [](std::string_view v) {
                while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
                while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
                return v;
            };
            const std::string_view rest = trim(line.substr(14));
            const std::string_view v = rest.starts_with(':') ? trim(rest.substr(1)) : std::string_view();
            // A line longer than 64 bytes (with its CR) is not read.
            if (raw.size() > 64 || !rest.starts_with(':') || v.empty() || v.size() > 19 ||
                !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
                bad = true;
            else
                length = std::stoull(std::string(v));
        }
        at = next;
    }
    if (fields != 1 || bad || !length || *length > mbox.size() - at) return std::nullopt;
    const std::uint64_t end = at + *length;
    auto boundary = [&](std::uint64_t k) { return k == mbox.size() || mbox.substr(k, 5) == "From "; };
    if (end == mbox.size()) {
        // Not when the file ends inside a From_ line: no message yet.
        const std::size_t last_line = mbox.rfind('\n') + 1;
        if (last_line < mbox.size() && mbox.substr(last_line, 5) == "From ") return std::nullopt;
        return end;
    }
    if (end > at && mbox[end - 1] != '\n') return std::nullopt;
    if (boundary(end) || (mbox[end] == '\n' && boundary(end + 1)) ||
        (mbox.substr(end, 2) == "\r\n" && boundary(end + 2)))
        return end;
    return std::nullopt;
}

// Against the From_ lines alone: every message the length rule did not
// delimit is exactly one of theirs, and one it did starts where one of
// theirs starts and covers whole ones of theirs.
void check_length_rule(std::string_view mbox, const MessageIndex& entries, std::uint64_t index_end,
                       const MessageIndex& from_lines_only) {
    std::set<std::uint64_t> starts;
    for (const MessageEntry& e : from_lines_only) starts.insert(e.from_offset);
    std::size_t j = 0;  // the From_-only message at or after entries[i]
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const MessageEntry& e = entries[i];
        const auto end = consistent_length_end(mbox, e.content_offset);
        const bool counted = e.flags & MessageEntry::kContentLength;
        FUZZ_REQUIRE(counted == end.has_value());
        FUZZ_REQUIRE(starts.count(e.from_offset) == 1);
        while (j < from_lines_only.size() && from_lines_only[j].from_offset < e.from_offset) ++j;
        FUZZ_REQUIRE(j < from_lines_only.size());
        if (!counted) {
            const MessageEntry& o = from_lines_only[j];
            FUZZ_REQUIRE(o.content_offset == e.content_offset && o.content_end == e.content_end && o.size == e.size);
        } else {
            FUZZ_REQUIRE(e.content_end == *end);
            // Up to the next message only a separator line: at most one empty line.
            const std::uint64_t next = i + 1 < entries.size() ? entries[i + 1].from_offset : index_end;
            const std::string_view gap = mbox.substr(e.content_end, next - e.content_end);
            FUZZ_REQUIRE(gap.empty() || gap == "\n" || gap == "\r\n");
        }
    }
    // Every From_ line of theirs starts a message, or is body text of one
    // that its length delimits.
    std::set<std::uint64_t> ours;
    for (const MessageEntry& e : entries) ours.insert(e.from_offset);
    for (const MessageEntry& o : from_lines_only) {
        bool inside = false;
        for (const MessageEntry& e : entries)
            inside = inside || ((e.flags & MessageEntry::kContentLength) && e.content_offset < o.from_offset &&
                                o.from_offset < e.content_end);
        FUZZ_REQUIRE(ours.count(o.from_offset) == 1 || inside);
    }
}

MboxSource source_of(std::string_view mbox) {
    return {mbox.size(), [mbox](std::uint64_t offset, char* buf, std::size_t len) -> std::size_t {
                if (offset >= mbox.size()) return 0;
                const std::size_t n = std::min<std::uint64_t>(len, mbox.size() - offset);
                std::memcpy(buf, mbox.data() + offset, n);
                return n;
            }};
}

std::unique_ptr<MboxMaildrop> open_mailbox(const std::string& path, bool unquote) {
    MboxOptions options;
    options.path = path;
    options.owner = ::geteuid();
    options.unquote = unquote;
    options.lock.timeout = std::chrono::milliseconds(2000);
    Result result;
    return MboxMaildrop::open(options, result);
}

std::vector<std::string> retrieve_all(MboxMaildrop& md, bool lend) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < md.count(); ++i) {
        const Result checked = md.check(i);
        if (!checked.ok()) std::fprintf(stderr, "check(%zu): %s\n", i, checked.detail.c_str());
        FUZZ_REQUIRE(checked.ok());
        StringSink sink(lend);
        FUZZ_REQUIRE(md.send(i, std::nullopt, sink).ok());
        out.push_back(unstuff(sink.bytes));
        FUZZ_REQUIRE(out.back().size() == md.size(i));
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const bool unquote = data[0] & 1;
    const std::size_t chunk = 1u << ((data[0] >> 1) & 7);  // 1..128
    const bool lend = (data[0] >> 1) & 1;
    const std::uint64_t top_lines = data[0] >> 4;
    const std::uint8_t delete_mask = data[1];
    const std::string_view mbox(reinterpret_cast<const char*>(data + 2), size - 2);

    // The indexer gives the same answer whatever the chunking.
    const MboxSource source = source_of(mbox);
    MboxIndexer whole(unquote, static_cast<std::size_t>(-1), &source);
    whole.feed(mbox.data(), mbox.size());
    const bool ok = whole.finish();
    MboxIndexer pieces(unquote, static_cast<std::size_t>(-1), &source);
    for (std::size_t at = 0; at < mbox.size(); at += chunk) pieces.feed(mbox.data() + at, std::min(chunk, mbox.size() - at));
    FUZZ_REQUIRE(pieces.finish() == ok);
    MboxIndexer from_lines(unquote);  // no source: Content-Length ignored
    from_lines.feed(mbox.data(), mbox.size());
    FUZZ_REQUIRE(from_lines.finish() == ok);  // the rule never turns an mbox into "not an mbox"
    if (!ok) return 0;
    const MessageIndex& entries = whole.messages();
    check_length_rule(mbox, entries, whole.end(), from_lines.messages());
    FUZZ_REQUIRE(entries.size() == pieces.messages().size());
    std::uint64_t previous_end = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const MessageEntry& e = entries[i];
        const MessageEntry& p = pieces.messages()[i];
        FUZZ_REQUIRE(e.from_offset == p.from_offset && e.content_offset == p.content_offset &&
                e.content_end == p.content_end && e.size == p.size && e.flags == p.flags);
        FUZZ_REQUIRE(e.from_offset >= previous_end && e.from_offset < e.content_offset && e.content_offset <= e.content_end);
        FUZZ_REQUIRE(e.content_end <= mbox.size() && mbox.substr(e.from_offset, 5) == "From ");
        FUZZ_REQUIRE(e.from_offset == 0 || mbox[e.from_offset - 1] == '\n');
        previous_end = e.content_end;
    }

    // In memory (every input): the writer against the model, in chunks.
    for (const MessageEntry& e : entries) {
        const std::string_view raw = mbox.substr(e.content_offset, e.content_end - e.content_offset);
        StringSink wire(lend);
        MessageEncoder encoder(wire, e.unquoted(unquote), true, std::nullopt);
        for (std::size_t at = 0; at < raw.size(); at += chunk)
            FUZZ_REQUIRE(encoder.feed(raw.data() + at, std::min(chunk, raw.size() - at)));
        FUZZ_REQUIRE(encoder.finish());
        const std::string message = unstuff(wire.bytes);
        FUZZ_REQUIRE(message == canonical(raw, e.unquoted(unquote)) && message.size() == e.size);
        StringSink top(lend);
        MessageEncoder top_encoder(top, e.unquoted(unquote), true, top_lines);
        top_encoder.feed(raw.data(), raw.size());
        FUZZ_REQUIRE(top_encoder.finish());
        FUZZ_REQUIRE(message.starts_with(unstuff(top.bytes)));
    }
    // Through a real file (one input in 16: it costs a file, two
    // locks and an expunge): open, check, send, UIDs, expunge.
    if (top_lines != 15) return 0;
    const std::string path = scratch_dir() + "/mbox";
    write_file(path, mbox);
    auto md = open_mailbox(path, unquote);
    FUZZ_REQUIRE(md != nullptr && md->count() == entries.size());
    const std::vector<std::string> messages = retrieve_all(*md, lend);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const MessageEntry& e = entries[i];
        FUZZ_REQUIRE(messages[i] == canonical(mbox.substr(e.content_offset, e.content_end - e.content_offset),
                                              e.unquoted(unquote)));
        StringSink top(lend);
        FUZZ_REQUIRE(md->check(i).ok() && md->send(i, top_lines, top).ok());
        FUZZ_REQUIRE(messages[i].starts_with(unstuff(top.bytes)));
    }
    FUZZ_REQUIRE(md->load_uids().ok());
    std::set<std::string> uids;
    for (std::size_t i = 0; i < md->count(); ++i) {
        const std::string uid = md->uid(i);
        FUZZ_REQUIRE(!uid.empty() && uid.size() <= 70);
        FUZZ_REQUIRE(std::all_of(uid.begin(), uid.end(), [](char c) { return c >= 0x21 && c <= 0x7e; }));
        FUZZ_REQUIRE(uids.insert(uid).second);
    }

    // Expunge: the kept messages come back byte for byte, in order.
    if (md->count() == 0 || !md->writable().ok()) return 0;
    std::vector<bool> deleted(md->count());
    std::vector<std::string> kept;
    for (std::size_t i = 0; i < deleted.size(); ++i) {
        deleted[i] = (delete_mask >> (i % 8)) & 1;
        if (!deleted[i]) kept.push_back(messages[i]);
    }
    // The one refusal: deleting messages after one whose ignored
    // Content-Length reaches past its end would change how it splits.
    bool may_resplit = false, later_deleted = false;
    for (std::size_t i = deleted.size(); i-- > 0;) {
        if (deleted[i]) later_deleted = true;
        else if (later_deleted && (entries[i].flags & MessageEntry::kLengthReachesPast)) may_resplit = true;
    }
    const Result expunged = md->expunge(deleted);
    if (!expunged.ok()) {
        FUZZ_REQUIRE(may_resplit && expunged.detail.find("would change where message") != std::string::npos);
        auto unchanged = open_mailbox(path, unquote);
        FUZZ_REQUIRE(unchanged != nullptr && retrieve_all(*unchanged, lend) == messages);
        return 0;
    }
    md.reset();
    auto after = open_mailbox(path, unquote);
    FUZZ_REQUIRE(after != nullptr);
    FUZZ_REQUIRE(retrieve_all(*after, lend) == kept);
    return 0;
}
