// A wall-clock date and time with no zone, as mbox From_ lines carry it
// (the MDA's local time) and as an admin writes one in pop3d.conf. Compared
// field by field: both sides are the same host's local time.
#pragma once

#include <compare>
#include <optional>
#include <string_view>

namespace pop3d {

struct CivilTime {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    auto operator<=>(const CivilTime&) const = default;
};

// "YYYY-MM-DD", "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS"; nothing when the
// text is not one of those or names no real date.
std::optional<CivilTime> parse_civil_time(std::string_view text);

// The date of an mbox From_ line, "From SENDER Www Mmm [d]d hh:mm[:ss] [zone] yyyy
// [...]" (asctime, as procmail, Postfix, Exim and dovecot-lda write it):
// the first month name followed by a day, a time and a year within the
// next few words. Nothing when there is none.
std::optional<CivilTime> from_line_time(std::string_view from_line);

}  // namespace pop3d
