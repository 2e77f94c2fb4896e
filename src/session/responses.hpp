// Every response text in one table: the fixed lines, then the lines with
// numbers. Texts never echo client data, so no response line can exceed 512
// octets. fetchmail reads "lock"/"wait" in a
// login error as "busy, retry": only [IN-USE] texts may say "lock".
#pragma once

#include "common/text.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace pop3d::session::reply {

inline constexpr std::string_view kGreeting = "+OK POP3 server ready";
inline constexpr std::string_view kUserAccepted = "+OK send PASS";
inline constexpr std::string_view kCapaFollows = "+OK capability list follows";
inline constexpr std::string_view kUidlFollows = "+OK unique-id listing follows";
inline constexpr std::string_view kTopFollows = "+OK top of message follows";
inline constexpr std::string_view kNoop = "+OK";
inline constexpr std::string_view kBye = "+OK pop3d signing off";

inline constexpr std::string_view kUnknownCommand = "-ERR unknown command";
inline constexpr std::string_view kWrongState = "-ERR command not valid in this state";
inline constexpr std::string_view kBadArguments = "-ERR invalid arguments";
inline constexpr std::string_view kBadCharacters = "-ERR invalid characters in command";
inline constexpr std::string_view kLineTooLong = "-ERR line too long";
inline constexpr std::string_view kTooManyErrors = "-ERR too many errors, closing connection";
// SIGTERM: the last line of every session, idle or between commands.
inline constexpr std::string_view kShuttingDown = "-ERR [SYS/TEMP] server shutting down, try again later";
// pop3d kick: the last line of each of the user's sessions.
inline constexpr std::string_view kKicked = "-ERR [SYS/TEMP] session ended by the administrator";
inline constexpr std::string_view kNoSuchMessage = "-ERR no such message";
inline constexpr std::string_view kMessageDeleted = "-ERR message is deleted";

inline constexpr std::string_view kBadUserName = "-ERR [AUTH] invalid user name";
inline constexpr std::string_view kUserFirst = "-ERR send USER first";
inline constexpr std::string_view kAuthFailed = "-ERR [AUTH] authentication failed";
inline constexpr std::string_view kNeedTls = "-ERR [AUTH] plaintext authentication needs TLS: use STLS first";
inline constexpr std::string_view kSaslContinue = "+ ";
inline constexpr std::string_view kSaslCancelled = "-ERR authentication cancelled";
inline constexpr std::string_view kSaslBadBase64 = "-ERR invalid base64 in the SASL response";
inline constexpr std::string_view kSaslBadPlain = "-ERR [AUTH] invalid PLAIN credentials";
inline constexpr std::string_view kSaslUnknown = "-ERR unsupported authentication mechanism";
inline constexpr std::string_view kSaslList = "+OK authentication mechanisms follow";
inline constexpr std::string_view kStlsGo = "+OK begin TLS negotiation";
inline constexpr std::string_view kStlsActive = "-ERR TLS is already active";
inline constexpr std::string_view kStlsUnavailable = "-ERR TLS is not available";
inline constexpr std::string_view kLoginDelay = "-ERR [LOGIN-DELAY] minimum time between logins not reached, try later";
inline constexpr std::string_view kAuthUnavailable = "-ERR [SYS/TEMP] Service temporarily unavailable, try later";
// Past the per-address failure budget; PAM is not asked. ("Service ...
// unavailable" is what fetchmail reads as "busy, come back later".)
inline constexpr std::string_view kAuthBlocked =
    "-ERR [SYS/TEMP] Service temporarily unavailable: too many failed logins from your address";
// Every login slot of the host stayed busy until the login timeout.
inline constexpr std::string_view kLoginsBusy =
    "-ERR [SYS/TEMP] Service temporarily unavailable: too many logins in progress, try later";
inline constexpr std::string_view kInUse = "-ERR [IN-USE] maildrop is locked by another session or program, try later";
inline constexpr std::string_view kMaildropTemp = "-ERR [SYS/TEMP] Service temporarily unavailable, try later";
inline constexpr std::string_view kMaildropPerm = "-ERR [SYS/PERM] cannot open the maildrop, contact your administrator";

inline constexpr std::string_view kMessageUnavailable = "-ERR [SYS/TEMP] mailbox changed since login, message unavailable";
inline constexpr std::string_view kUidsUnavailable = "-ERR [SYS/TEMP] mailbox changed since login, unique ids unavailable";
inline constexpr std::string_view kUpdateFailed = "-ERR [SYS/TEMP] no messages deleted, try again later";
inline constexpr std::string_view kUpdateChanged = "-ERR [SYS/TEMP] mailbox changed by another program, no messages deleted";
inline constexpr std::string_view kUpdateLocked = "-ERR [SYS/TEMP] maildrop locked by another program, no messages deleted";
inline constexpr std::string_view kUpdateReadOnly = "-ERR [SYS/PERM] maildrop is read-only, no messages deleted";
inline constexpr std::string_view kDeleChanged = "-ERR [SYS/TEMP] mailbox changed by another program, deleting is off for this session";
inline constexpr std::string_view kDeleReadOnly = "-ERR [SYS/PERM] maildrop is read-only";

// Before a session starts (app/daemon.cpp, app/main.cpp): the one line a
// refused connection gets. A stopped connection gets kShuttingDown.
inline constexpr std::string_view kTooManyConnections = "-ERR [SYS/TEMP] too many connections, try again later";
inline constexpr std::string_view kTooManyFromAddress =
    "-ERR [SYS/TEMP] too many connections from your address, try again later";
inline constexpr std::string_view kServerBusy = "-ERR [SYS/TEMP] server busy, try again later";
inline constexpr std::string_view kConfigError = "-ERR [SYS/PERM] server configuration error";

// Replies with numbers in them: the words here, the numbers from the caller
// (a unique id is the server's, never the client's).
// STAT, and LIST or UIDL of one message: "+OK 2 320", "+OK 2 <uid>".
inline std::string ok_pair(std::uint64_t a, std::string_view b) {
    return "+OK " + std::to_string(a) + " " + std::string(b);
}
inline std::string ok_pair(std::uint64_t a, std::uint64_t b) { return ok_pair(a, std::to_string(b)); }
// "2 messages (320 octets)"
inline std::string totals(std::size_t messages, std::uint64_t octets) {
    return text::count(messages, "message") + " (" + text::count(octets, "octet") + ")";
}
// After login and RSET.
inline std::string maildrop_has(std::size_t messages, std::uint64_t octets) {
    return "+OK maildrop has " + totals(messages, octets);
}
// LIST without an argument, before the scan listing.
inline std::string list_follows(std::size_t messages, std::uint64_t octets) {
    return "+OK " + totals(messages, octets);
}
inline std::string retr_follows(std::uint64_t octets) { return "+OK " + text::count(octets, "octet"); }
inline std::string deleted(std::size_t number) { return "+OK message " + std::to_string(number) + " deleted"; }
inline std::string bye_after_update(std::size_t deleted) {
    return std::string(kBye) + " (" + text::count(deleted, "message") + " deleted)";
}

}  // namespace pop3d::session::reply
