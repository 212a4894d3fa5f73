// GitSha: a full git commit id, 40 lowercase hexadecimal characters.
//
// Parsing is strict (no upper case, no abbreviations, no whitespace) so that a
// GitSha can be used directly as an image tag and as a database key.
//
//   absl::StatusOr<GitSha> sha = GitSha::Parse(request.git_sha());
//   if (!sha.ok()) return sha.status();    // INVALID_ARGUMENT
//   std::string tag = sha->str();          // "3f2a…" (40 chars)
//   std::string short_tag = sha->short_sha();  // first 12 chars
#ifndef SHAPIN_COMMON_GIT_SHA_H_
#define SHAPIN_COMMON_GIT_SHA_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shapin {

class GitSha {
 public:
  static constexpr size_t kLength = 40;
  static constexpr size_t kShortLength = 12;

  // INVALID_ARGUMENT unless `text` is exactly 40 characters of [0-9a-f]. The
  // message describes what is wrong (length or the offending character) but
  // does not name a field: callers prefix the field name.
  static absl::StatusOr<GitSha> Parse(absl::string_view text);

  const std::string& str() const { return hex_; }
  // The 12-character convenience tag.
  std::string short_sha() const { return hex_.substr(0, kShortLength); }

  friend bool operator==(const GitSha&, const GitSha&) = default;
  friend auto operator<=>(const GitSha&, const GitSha&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const GitSha& s) {
    return H::combine(std::move(h), s.hex_);
  }
  template <typename Sink>
  friend void AbslStringify(Sink& sink, const GitSha& s) {
    sink.Append(s.hex_);
  }

 private:
  explicit GitSha(std::string hex) : hex_(std::move(hex)) {}
  std::string hex_;
};

}  // namespace shapin

#endif  // SHAPIN_COMMON_GIT_SHA_H_
