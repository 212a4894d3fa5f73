#include "build-svc/adapters/mount_safe_removal.h"

#include <sys/mount.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace shapin::build {

std::vector<std::string> MountsUnder(const std::string& dir) {
  std::vector<std::string> mounts;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  const std::string prefix = absl::StrCat(dir, "/");
  while (std::getline(in, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() < 5) continue;
    const std::string& point = fields[4];  // octal-escaped; ours have no spaces
    if (point == dir || absl::StartsWith(point, prefix)) {
      mounts.push_back(point);
    }
  }
  std::sort(mounts.begin(), mounts.end(),
            [](const std::string& a, const std::string& b) {
              return a.size() > b.size();
            });
  return mounts;
}

absl::Status RemoveTreeNotThroughMounts(const std::string& dir) {
  for (const std::string& point : MountsUnder(dir)) {
    umount2(point.c_str(), MNT_DETACH);
  }
  if (std::vector<std::string> left = MountsUnder(dir); !left.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "not removing ", dir, ": still mounted: ", absl::StrJoin(left, ", ")));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot remove ", dir, ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace shapin::build
