#include "auth/pam_authenticator.hpp"

#include "auth/username.hpp"
#include "build_config.h"
#include "common/nss.hpp"
#include "common/stack.hpp"
#include "common/text.hpp"

#include <security/pam_appl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace pop3d::auth {

namespace {

struct ConversationData {
    const std::string* user;
    const std::string* password;
};

// Called by PAM modules (C code): must not throw. Answers password prompts
// with the password and name prompts with the user; informational messages
// need no answer, and PAM may then pass resp == NULL.
extern "C" int pop3d_pam_conversation(int num_msg, const struct pam_message** msg, struct pam_response** resp,
                                      void* appdata) noexcept {
    if (num_msg <= 0 || num_msg > PAM_MAX_NUM_MSG || msg == nullptr || appdata == nullptr) return PAM_CONV_ERR;
    const auto* data = static_cast<const ConversationData*>(appdata);
    bool needs_answer = false;
    for (int i = 0; i < num_msg; ++i) {
        const int style = msg[i]->msg_style;
        if (style == PAM_PROMPT_ECHO_OFF || style == PAM_PROMPT_ECHO_ON) needs_answer = true;
    }
    if (!needs_answer) {
        if (resp) *resp = nullptr;
        return PAM_SUCCESS;
    }
    if (resp == nullptr) return PAM_CONV_ERR;
    auto* replies = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(num_msg), sizeof(pam_response)));
    if (!replies) return PAM_BUF_ERR;
    for (int i = 0; i < num_msg; ++i) {
        const std::string* answer = nullptr;
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF) answer = data->password;
        else if (msg[i]->msg_style == PAM_PROMPT_ECHO_ON) answer = data->user;
        if (!answer) continue;
        replies[i].resp = strndup(answer->data(), answer->size());
        if (!replies[i].resp) {
            for (int j = 0; j < i; ++j) {
                if (replies[j].resp) {
                    explicit_bzero(replies[j].resp, std::strlen(replies[j].resp));
                    std::free(replies[j].resp);
                }
            }
            std::free(replies);
            return PAM_BUF_ERR;
        }
    }
    *resp = replies;
    return PAM_SUCCESS;
}

// We apply one uniform delay to every failure ourselves (session), so modules'
// own delays must not add a timing difference.
extern "C" void pop3d_pam_no_delay(int, unsigned, void*) noexcept {}

class PamHandle {
public:
    PamHandle() = default;
    PamHandle(const PamHandle&) = delete;
    PamHandle& operator=(const PamHandle&) = delete;
    ~PamHandle() {
        if (handle_) ::pam_end(handle_, last_);
    }
    pam_handle_t** out() { return &handle_; }
    pam_handle_t* get() const { return handle_; }
    int track(int rc) { return last_ = rc; }

private:
    pam_handle_t* handle_ = nullptr;
    int last_ = PAM_SUCCESS;
};

}  // namespace

LookupResult lookup_account(const std::string& name, Account& out) { return nss::user_by_name(name, out); }

PamAuthenticator::PamAuthenticator(std::string service, std::string confdir, std::size_t max_username_length)
    : service_(std::move(service)), confdir_(std::move(confdir)), max_username_length_(max_username_length) {}

AuthResult PamAuthenticator::authenticate(std::string_view user, std::string_view password, const ClientInfo& client) {
    AuthResult result = run_pam(user, password, client);
    // PAM modules may use a lot of stack (pam_cap: 256 KiB); a session
    // thread lives on after login, so give those pages back.
    release_unused_stack();
    return result;
}

namespace {

AuthResult outcome(AuthStatus status, std::string detail) {
    AuthResult r;
    r.status = status;
    r.detail = std::move(detail);
    return r;
}

// What pam_authenticate/pam_acct_mgmt answered, as a result: ok, a failed
// login (counts against the address), or PAM itself unavailable.
AuthResult classify_pam(pam_handle_t* ph, int rc) {
    switch (rc) {
    case PAM_SUCCESS:
        return outcome(AuthStatus::ok, "");
    case PAM_AUTHINFO_UNAVAIL:
    case PAM_SYSTEM_ERR:
    case PAM_BUF_ERR:
    case PAM_ABORT:
    case PAM_SERVICE_ERR:
    case PAM_TRY_AGAIN:
        return outcome(AuthStatus::unavailable, std::string("PAM: ") + ::pam_strerror(ph, rc));
    default:  // PAM_AUTH_ERR, PAM_USER_UNKNOWN, PAM_MAXTRIES, PAM_ACCT_EXPIRED, PAM_NEW_AUTHTOK_REQD, PAM_PERM_DENIED...
        return outcome(AuthStatus::failed, std::string("PAM: ") + ::pam_strerror(ph, rc));
    }
}

// After PAM said yes: the account of the name PAM settled on (a module may
// have mapped the name).
AuthResult settled_account(pam_handle_t* ph, const std::string& asked, std::size_t max_username_length) {
    const void* item = nullptr;
    std::string name = asked;
    if (::pam_get_item(ph, PAM_USER, &item) == PAM_SUCCESS && item != nullptr) name = static_cast<const char*>(item);
    if (!valid_username(name, max_username_length))
        return outcome(AuthStatus::failed, "PAM returned an invalid user name '" + text::escape_log_field(name) + "'");
    AuthResult result;
    switch (lookup_account(name, result.account)) {
    case LookupResult::found:
        result.status = AuthStatus::ok;
        return result;
    case LookupResult::not_found:
        return outcome(AuthStatus::failed, "no passwd entry for '" + text::escape_log_field(name) + "'");
    case LookupResult::error:
        break;
    }
    return outcome(AuthStatus::unavailable, "passwd lookup of '" + text::escape_log_field(name) + "' failed");
}

// pam_start (in confdir if set) and the items every login sets; "" when
// ready, else why not.
std::string start_pam(const std::string& service, const std::string& confdir, const std::string& user,
                      const pam_conv* conv, PamHandle& ph, const ClientInfo& client) {
    int rc;
#if POP3D_HAVE_PAM_START_CONFDIR
    if (!confdir.empty())
        rc = ::pam_start_confdir(service.c_str(), user.c_str(), conv, confdir.c_str(), ph.out());
    else
#endif
        rc = ::pam_start(service.c_str(), user.c_str(), conv, ph.out());
    (void)confdir;
    if (rc != PAM_SUCCESS || !ph.get()) return "pam_start failed for service " + service;
    if (!client.address.empty() && ::pam_set_item(ph.get(), PAM_RHOST, client.address.c_str()) != PAM_SUCCESS)
        return "pam_set_item(PAM_RHOST) failed";
    // Failure is fine here: then modules' own delays apply, on top of ours.
    ::pam_set_item(ph.get(), PAM_FAIL_DELAY, reinterpret_cast<const void*>(&pop3d_pam_no_delay));
    return "";
}

}  // namespace

AuthResult PamAuthenticator::run_pam(std::string_view user, std::string_view password, const ClientInfo& client) {
    const std::string user_copy(user);
    std::string password_copy(password);
    struct Wipe {
        std::string& s;
        ~Wipe() { explicit_bzero(s.data(), s.size()); }
    } wipe{password_copy};

    ConversationData data{&user_copy, &password_copy};
    const pam_conv conv{pop3d_pam_conversation, &data};
    PamHandle ph;
    if (std::string why = start_pam(service_, confdir_, user_copy, &conv, ph, client); !why.empty())
        return outcome(AuthStatus::unavailable, why);
    int rc = ph.track(::pam_authenticate(ph.get(), PAM_DISALLOW_NULL_AUTHTOK));
    if (rc == PAM_SUCCESS) rc = ph.track(::pam_acct_mgmt(ph.get(), PAM_DISALLOW_NULL_AUTHTOK));
    if (AuthResult r = classify_pam(ph.get(), rc); r.status != AuthStatus::ok) return r;
    return settled_account(ph.get(), user_copy, max_username_length_);
}

}  // namespace pop3d::auth
