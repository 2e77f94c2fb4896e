// Every kind of line pop3d logs, in one place. Each has an entry in
// pop3d(8) LOGGING saying what it means and what to do about it;
// tests/integration/test_log_catalogue.py reads this file and checks.
// Each definition has this form (the test reads it):
//   inline constexpr Event NAME{"fixed words", Level::LEVEL[, names_client]};
#pragma once

#include "log/log.hpp"

namespace pop3d::log::event {

// ---- a connection, from accept to disconnect ----
inline constexpr Event connect{"connect", Level::info, true};
inline constexpr Event refused{"refused", Level::warning, true};
inline constexpr Event not_started{"session not started", Level::err, true};
inline constexpr Event proxy_missing{"PROXY header missing", Level::info, true};
inline constexpr Event proxy_refused{"PROXY header refused", Level::warning, true};
inline constexpr Event tls{"tls", Level::info, true};
inline constexpr Event tls_failed{"TLS failed", Level::err, true};
inline constexpr Event tls_handshake_failed{"TLS handshake failed", Level::notice, true};
inline constexpr Event stls_refused{"STLS refused", Level::info, true};
inline constexpr Event login_refused{"login refused", Level::notice, true};
inline constexpr Event login_failed{"login failed", Level::notice, true};
inline constexpr Event login_blocked{"login blocked", Level::warning, true};
inline constexpr Event login_deferred{"login deferred", Level::warning, true};
inline constexpr Event login_delay{"login delay", Level::warning, true};
inline constexpr Event maildrop_in_use{"maildrop in use", Level::warning, true};
inline constexpr Event maildrop_unavailable{"maildrop unavailable", Level::warning, true};
inline constexpr Event cannot_open_maildrop{"cannot open maildrop", Level::err, true};
inline constexpr Event login{"login", Level::info, true};
inline constexpr Event message_unavailable{"message unavailable", Level::warning, true};
inline constexpr Event uids_unavailable{"unique ids unavailable", Level::warning, true};
inline constexpr Event send_failed{"send failed", Level::err, true};
inline constexpr Event expunged{"expunged", Level::info};
inline constexpr Event expunge_failed{"expunge failed", Level::err, true};
inline constexpr Event logout{"logout", Level::info, true};
inline constexpr Event disconnect{"disconnect", Level::info, true};
inline constexpr Event session_aborted{"session aborted", Level::err, true};
inline constexpr Event session_process_failed{"session process failed", Level::err, true};
inline constexpr Event not_listed{"session not listed:", Level::warning};

// ---- the maildrop and the spool, inside a session ----
inline constexpr Event maildrop_too_large{"maildrop too large:", Level::warning};
inline constexpr Event uidl_compat{"uidl compat:", Level::info};
inline constexpr Event stale_lock_removed{"removed stale lock", Level::warning};
inline constexpr Event no_session_lock{"no one-session-per-maildrop exclusion:", Level::warning};
inline constexpr Event no_index_cache{"no saved indexes, every session indexes its mailbox anew:", Level::warning};
inline constexpr Event no_mail_group{"mail_group does not exist:", Level::warning};

// ---- what an administrator did (pop3d kick, pop3d unblock) ----
inline constexpr Event kicked{"session ended by the administrator", Level::notice};
inline constexpr Event unblocked{"unblocked", Level::notice};

// ---- the daemon and its setup ----
inline constexpr Event listening{"listening on", Level::notice};
inline constexpr Event accept_failed{"accept failed:", Level::warning};
inline constexpr Event poll_failed{"poll failed:", Level::err};
inline constexpr Event config_error{"configuration error:", Level::err};
inline constexpr Event config_warning{"configuration warning:", Level::warning};
inline constexpr Event tls_setup_failed{"TLS setup failed:", Level::err};
inline constexpr Event log_file_failed{"cannot open log_file", Level::err};
inline constexpr Event pid_file_failed{"cannot write pid file", Level::err};
inline constexpr Event runtime_dir_unusable{"runtime_dir unusable:", Level::warning};
inline constexpr Event reloaded{"configuration reloaded from", Level::notice};
inline constexpr Event reload_error{"reload error:", Level::err};
inline constexpr Event reload_failed{"reload failed; keeping the previous configuration", Level::err};
inline constexpr Event reload_tls_failed{"reload failed: TLS:", Level::err};
inline constexpr Event reload_tls_off{
    "reload failed: TLS cannot be switched off without a restart; keeping the previous configuration", Level::err};
inline constexpr Event reload_needs_restart{"reload: listen and process_model changes take effect at the next restart",
                                            Level::warning};
inline constexpr Event shutting_down{"shutting down;", Level::notice};
inline constexpr Event grace_over{"grace period over:", Level::warning};
inline constexpr Event stopped{"stopped", Level::notice};

}  // namespace pop3d::log::event
