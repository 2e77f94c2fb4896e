#include "session/refusals.hpp"

#include "session/responses.hpp"

namespace pop3d::session {

Refusal refusal(auth::AuthStatus status) {
    if (status == auth::AuthStatus::unavailable) return {reply::kAuthUnavailable, false};
    return {reply::kAuthFailed, true};
}

namespace {

std::string_view open_reply(mailbox::Status s) {
    switch (s) {
    case mailbox::Status::in_use: return reply::kInUse;
    case mailbox::Status::too_soon: return reply::kLoginDelay;
    case mailbox::Status::perm_fail: return reply::kMaildropPerm;
    default: return reply::kMaildropTemp;
    }
}

std::string_view update_reply(mailbox::Status s) {
    switch (s) {
    case mailbox::Status::changed: return reply::kUpdateChanged;
    case mailbox::Status::in_use: return reply::kUpdateLocked;
    case mailbox::Status::perm_fail: return reply::kUpdateReadOnly;
    default: return reply::kUpdateFailed;
    }
}

}  // namespace

Refusal refusal(MaildropStep step, mailbox::Status status) {
    switch (step) {
    case MaildropStep::open: return {open_reply(status), false};
    case MaildropStep::update: return {update_reply(status), false};
    case MaildropStep::dele: break;
    }
    return {status == mailbox::Status::perm_fail ? reply::kDeleReadOnly : reply::kDeleChanged, false};
}

}  // namespace pop3d::session
