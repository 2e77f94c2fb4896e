#include "common/filesystem_kind.hpp"

#include <sys/vfs.h>

namespace pop3d {

bool is_shared_filesystem_type(unsigned long f_type) {
    switch (f_type) {
    case 0x6969:      // NFS (v2, v3, v4)
    case 0x517B:      // SMB
    case 0xFF534D42:  // CIFS
    case 0xFE534D42:  // SMB2
    case 0x00C36400:  // Ceph
    case 0x01161970:  // GFS2
    case 0x7461636F:  // OCFS2
    case 0x47504653:  // GPFS
    case 0x0BD00BD0:  // Lustre
    case 0x65735546:  // FUSE: GlusterFS, and local ones too; assume the worst
        return true;
    default:
        return false;
    }
}

bool on_shared_filesystem(const std::string& path) {
    struct statfs fs {};
    return ::statfs(path.c_str(), &fs) == 0 && is_shared_filesystem_type(static_cast<unsigned long>(fs.f_type));
}

}  // namespace pop3d
