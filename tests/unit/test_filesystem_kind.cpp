// Which filesystems are shared between hosts (common/filesystem_kind): NFS,
// SMB and cluster filesystems are, local ones are not.
#include "common/filesystem_kind.hpp"

#include <gtest/gtest.h>

#include <ios>

TEST(FilesystemKind, NetworkAndClusterFilesystemsAreShared) {
    for (unsigned long nfs_and_co : {0x6969UL, 0xFF534D42UL, 0xFE534D42UL, 0x00C36400UL, 0x01161970UL})
        EXPECT_TRUE(pop3d::is_shared_filesystem_type(nfs_and_co)) << std::hex << nfs_and_co;
    for (unsigned long local : {0xEF53UL /* ext4 */, 0x01021994UL /* tmpfs */, 0x58465342UL /* xfs */, 0x9123683EUL})
        EXPECT_FALSE(pop3d::is_shared_filesystem_type(local)) << std::hex << local;
    EXPECT_FALSE(pop3d::on_shared_filesystem("/nonexistent/path"));
    EXPECT_FALSE(pop3d::on_shared_filesystem("/proc"));
}
