// Removing a builder's directory tree without deleting through a mount.
//
// buildah (chroot isolation) mounts inside its own namespace, so nothing
// should be mounted below a build directory; but if something is — a
// crashed builder's leftover bind mount — `remove_all` would delete the host
// files behind it. So: detach what is mounted below, and rather leak the
// directory than delete through a mount.
//
//   if (absl::Status s = RemoveTreeNotThroughMounts(dir); !s.ok()) {
//     LogWarning("build_dir_not_removed", {{"dir", dir}, {"reason",
//                                         s.message()}});
//   }
#ifndef SHAPIN_BUILD_SVC_ADAPTERS_MOUNT_SAFE_REMOVAL_H_
#define SHAPIN_BUILD_SVC_ADAPTERS_MOUNT_SAFE_REMOVAL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace shapin::build {

// Mount points at or below `dir` (from /proc/self/mountinfo), deepest first.
std::vector<std::string> MountsUnder(const std::string& dir);

// Detaches every mount below `dir`, then removes the tree. FAILED_PRECONDITION
// naming the mounts when some cannot be detached (nothing is deleted then);
// INTERNAL when the removal itself fails. A missing `dir` is OK.
absl::Status RemoveTreeNotThroughMounts(const std::string& dir);

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_ADAPTERS_MOUNT_SAFE_REMOVAL_H_
