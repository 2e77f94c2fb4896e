#include "common/civil_time.hpp"

#include "common/text.hpp"

#include <array>
#include <vector>

namespace pop3d {

namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool real_date(const CivilTime& t) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (t.year < 1970 || t.year > 9999 || t.month < 1 || t.month > 12 || t.day < 1) return false;
    const int days = kDays[t.month - 1] + (t.month == 2 && leap(t.year) ? 1 : 0);
    return t.day <= days && t.hour <= 23 && t.minute <= 59 && t.second <= 60;
}

// Exactly `width` digits (or 1..width when width_is_max) as a number.
std::optional<int> number(std::string_view s, std::size_t width, bool width_is_max = false) {
    if (s.empty() || s.size() > width || (!width_is_max && s.size() != width)) return std::nullopt;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

// "hh:mm" or "hh:mm:ss" into t.
bool clock_time(std::string_view s, CivilTime& t) {
    const auto h = number(s.substr(0, 2), 2);
    if (!h || s.size() < 5 || s[2] != ':') return false;
    const auto m = number(s.substr(3, 2), 2);
    if (!m) return false;
    t.hour = *h;
    t.minute = *m;
    t.second = 0;
    if (s.size() == 5) return true;
    if (s.size() != 8 || s[5] != ':') return false;
    const auto sec = number(s.substr(6, 2), 2);
    if (!sec) return false;
    t.second = *sec;
    return true;
}

std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    while (true) {
        s = text::trim_blanks(s);
        if (s.empty()) return out;
        const std::size_t end = s.find_first_of(" \t");
        out.push_back(s.substr(0, end));
        if (end == std::string_view::npos) return out;
        s.remove_prefix(end);
    }
}

// Month, day, time and then a year among the next two words (a zone may
// stand before it), starting at words[i].
std::optional<CivilTime> date_at(const std::vector<std::string_view>& w, std::size_t i) {
    if (i + 3 >= w.size()) return std::nullopt;
    CivilTime t;
    for (std::size_t m = 0; m < kMonths.size(); ++m)
        if (w[i] == kMonths[m]) t.month = static_cast<int>(m) + 1;
    const auto day = number(w[i + 1], 2, true);
    if (t.month == 0 || !day || !clock_time(w[i + 2], t)) return std::nullopt;
    t.day = *day;
    for (std::size_t k = i + 3; k < w.size() && k <= i + 4; ++k) {
        if (const auto y = number(w[k], 4)) {
            t.year = *y;
            return real_date(t) ? std::optional(t) : std::nullopt;
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<CivilTime> parse_civil_time(std::string_view s) {
    CivilTime t;
    const auto y = number(s.substr(0, 4), 4);
    if (!y || s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
    const auto mo = number(s.substr(5, 2), 2);
    const auto d = number(s.substr(8, 2), 2);
    if (!mo || !d) return std::nullopt;
    t.year = *y;
    t.month = *mo;
    t.day = *d;
    if (s.size() > 10 && (s[10] != ' ' || !clock_time(s.substr(11), t))) return std::nullopt;
    return real_date(t) ? std::optional(t) : std::nullopt;
}

std::optional<CivilTime> from_line_time(std::string_view line) {
    if (line.ends_with('\n')) line.remove_suffix(1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    const std::vector<std::string_view> w = words(line);
    // w[0] is "From", w[1] the sender: the date comes after them.
    for (std::size_t i = 2; i < w.size(); ++i)
        if (auto t = date_at(w, i)) return t;
    return std::nullopt;
}

}  // namespace pop3d
