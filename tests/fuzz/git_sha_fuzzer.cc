// Fuzz target for GitSha::Parse: accepted text is exactly the canonical
// 40-character lowercase form, and the short SHA is its prefix.
#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "common/git_sha.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<shapin::GitSha> sha = shapin::GitSha::Parse(text);
  if (!sha.ok()) {
    FUZZ_CHECK(!sha.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(sha->str() == text);
  FUZZ_CHECK(sha->str().size() == shapin::GitSha::kLength);
  FUZZ_CHECK(sha->str() == absl::AsciiStrToLower(sha->str()));
  FUZZ_CHECK(
      absl::string_view(sha->str()).substr(0, shapin::GitSha::kShortLength) ==
      sha->short_sha());
  return 0;
}
