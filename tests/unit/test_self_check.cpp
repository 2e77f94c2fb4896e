// pop3d -t's emulation of the kernel's permission check for a user who
// creates a dotlock in the spool (the daemon does it as the user, so -t,
// running as root, cannot simply ask access()).
#include "app/self_check_parts.hpp"

#include <gtest/gtest.h>

namespace {

using pop3d::app::check::may_create;

struct stat dir(uid_t uid, gid_t gid, mode_t mode) {
    struct stat st {};
    st.st_uid = uid;
    st.st_gid = gid;
    st.st_mode = S_IFDIR | mode;
    return st;
}

TEST(SelfCheck, DebianSpoolNeedsTheMailGroup) {
    EXPECT_TRUE(may_create(dir(0, 8, 02775), std::nullopt, {8}));
    EXPECT_FALSE(may_create(dir(0, 8, 02775), std::nullopt, {}));
    EXPECT_FALSE(may_create(dir(0, 0, 0755), std::nullopt, {8}));
}

TEST(SelfCheck, OwnerBitsDecideForTheOwnerAndGroupBitsForAMember) {
    EXPECT_FALSE(may_create(dir(1000, 8, 0577), 1000u, {8}));  // owner r-x: others' rwx do not help
    EXPECT_FALSE(may_create(dir(0, 8, 01757), std::nullopt, {8}));  // member r-x: others' rwx do not help
    EXPECT_TRUE(may_create(dir(0, 0, 01777), std::nullopt, {}));
    EXPECT_TRUE(may_create(dir(1000, 1000, 0700), 1000u, {}));
}

TEST(SelfCheck, CreatingNeedsWriteAndSearch) {
    EXPECT_FALSE(may_create(dir(0, 8, 0762), std::nullopt, {8}));  // rw- without x
    EXPECT_FALSE(may_create(dir(0, 8, 0755), std::nullopt, {8}));  // r-x
}

}  // namespace
