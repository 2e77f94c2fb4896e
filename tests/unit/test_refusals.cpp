// The one mapping from a failed step to the client's reply, and whether it
// counts against the client's address.
#include "session/refusals.hpp"
#include "session/responses.hpp"

#include <gtest/gtest.h>

using namespace pop3d;
using session::MaildropStep;
using session::refusal;
namespace reply = session::reply;

namespace {

TEST(Refusals, OnlyFailedCredentialsCountAgainstTheAddress) {
    EXPECT_EQ(refusal(auth::AuthStatus::failed).reply, reply::kAuthFailed);
    EXPECT_TRUE(refusal(auth::AuthStatus::failed).counts_against_address);
    EXPECT_EQ(refusal(auth::AuthStatus::unavailable).reply, reply::kAuthUnavailable);
    EXPECT_FALSE(refusal(auth::AuthStatus::unavailable).counts_against_address);
}

TEST(Refusals, MaildropStepsNeverCount) {
    using mailbox::Status;
    EXPECT_EQ(refusal(MaildropStep::open, Status::in_use).reply, reply::kInUse);
    EXPECT_EQ(refusal(MaildropStep::open, Status::too_soon).reply, reply::kLoginDelay);
    EXPECT_EQ(refusal(MaildropStep::open, Status::perm_fail).reply, reply::kMaildropPerm);
    EXPECT_EQ(refusal(MaildropStep::open, Status::temp_fail).reply, reply::kMaildropTemp);
    EXPECT_EQ(refusal(MaildropStep::update, Status::changed).reply, reply::kUpdateChanged);
    EXPECT_EQ(refusal(MaildropStep::update, Status::in_use).reply, reply::kUpdateLocked);
    EXPECT_EQ(refusal(MaildropStep::update, Status::perm_fail).reply, reply::kUpdateReadOnly);
    EXPECT_EQ(refusal(MaildropStep::update, Status::temp_fail).reply, reply::kUpdateFailed);
    EXPECT_EQ(refusal(MaildropStep::dele, Status::perm_fail).reply, reply::kDeleReadOnly);
    EXPECT_EQ(refusal(MaildropStep::dele, Status::changed).reply, reply::kDeleChanged);
    for (const Status s : {Status::in_use, Status::temp_fail, Status::changed, Status::too_soon, Status::perm_fail})
        for (const MaildropStep step : {MaildropStep::open, MaildropStep::update, MaildropStep::dele})
            EXPECT_FALSE(refusal(step, s).counts_against_address);
}

}  // namespace
