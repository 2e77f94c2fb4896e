// The old servers whose ids `uidl_compat` keeps for the messages they
// listed: one list and one spelling, read by the configuration and used
// by the mailbox code (mailbox/uid_compat.hpp).
#pragma once

#include <optional>
#include <string_view>

namespace pop3d {

enum class UidlPeer { none, popa3d, dovecot, uw };

inline constexpr UidlPeer kUidlPeers[] = {UidlPeer::none, UidlPeer::popa3d, UidlPeer::dovecot, UidlPeer::uw};

// As uidl_compat spells it.
constexpr std::string_view name(UidlPeer peer) {
    switch (peer) {
    case UidlPeer::popa3d: return "popa3d";
    case UidlPeer::dovecot: return "dovecot";
    case UidlPeer::uw: return "uw";
    case UidlPeer::none: break;
    }
    return "none";
}

constexpr std::optional<UidlPeer> parse_uidl_peer(std::string_view text) {
    for (const UidlPeer p : kUidlPeers)
        if (text == name(p)) return p;
    return std::nullopt;
}

}  // namespace pop3d
