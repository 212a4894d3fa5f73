#include "common/git_sha.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace shapin {
namespace {

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

}  // namespace

absl::StatusOr<GitSha> GitSha::Parse(absl::string_view text) {
  // Length first: a short or long input is almost always an abbreviated sha
  // or stray whitespace, and its length says so more directly.
  if (text.size() != kLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "must be ", kLength, " lowercase hex characters, got ", text.size()));
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (IsLowerHex(c)) continue;
    // Escaped so a control byte cannot corrupt logs; positions are 0-based.
    std::string message =
        absl::StrCat("invalid character '", absl::CHexEscape(text.substr(i, 1)),
                     "' at position ", i);
    if (c >= 'A' && c <= 'F') absl::StrAppend(&message, " (must be lowercase)");
    return absl::InvalidArgumentError(message);
  }
  return GitSha(std::string(text));
}

}  // namespace shapin
