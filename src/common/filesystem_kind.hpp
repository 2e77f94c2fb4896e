// Whether a path is on a filesystem that other hosts may use at the same
// time (NFS, SMB, cluster filesystems): there a process id in a dotlock
// may be another host's, and shared memory is not coherent.
#pragma once

#include <string>

namespace pop3d {

bool is_shared_filesystem_type(unsigned long f_type);
// false when the path cannot be examined.
bool on_shared_filesystem(const std::string& path);

}  // namespace pop3d
