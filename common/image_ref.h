// ImageRef: a container image reference, registry/repository[:tag][@digest].
//
// Parsing follows the OCI distribution reference grammar (the one
// distribution/reference implements): lower-case path components separated
// by '/', '.', '_', '__' or '-' runs; a domain component first when it
// contains '.' or ':' or is "localhost"; tags match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127};
// a digest is a sha256 Digest. A reference with no domain is normalised the
// way docker does ("busybox" -> "docker.io/library/busybox").
//
//   SHAPIN_ASSIGN_OR_RETURN(ImageRef repo,
//                           ImageRef::Parse("ghcr.io/mconstant/pay2slay-api"));
//   SHAPIN_ASSIGN_OR_RETURN(ImageRef tagged, repo.with_tag(sha.str()));
//   ImageRef pinned = tagged.with_digest(digest);
//   pinned.ToString()  // "ghcr.io/mconstant/pay2slay-api:<sha>@sha256:…"
#ifndef SHAPIN_COMMON_IMAGE_REF_H_
#define SHAPIN_COMMON_IMAGE_REF_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"

namespace shapin {

class ImageRef {
 public:
  // INVALID_ARGUMENT naming what is wrong (empty, upper case in the
  // repository, bad tag, bad digest, name longer than 255 characters, ...).
  static absl::StatusOr<ImageRef> Parse(absl::string_view text);

  // "ghcr.io", "127.0.0.1:5000", "docker.io".
  const std::string& registry() const { return registry_; }
  // The path inside the registry: "mconstant/pay2slay-api".
  const std::string& repository() const { return repository_; }
  // registry + "/" + repository: the name without tag or digest.
  std::string name() const { return registry_ + "/" + repository_; }
  const std::optional<std::string>& tag() const { return tag_; }
  const std::optional<Digest>& digest() const { return digest_; }

  // A copy with the tag replaced; INVALID_ARGUMENT for a malformed tag.
  absl::StatusOr<ImageRef> with_tag(absl::string_view tag) const;
  // A copy with the digest replaced (the tag, if any, is kept).
  ImageRef with_digest(const Digest& digest) const;
  // A copy with neither tag nor digest: the repository itself.
  ImageRef repository_only() const;

  // Canonical form: name[:tag][@digest].
  std::string ToString() const;

  friend bool operator==(const ImageRef&, const ImageRef&) = default;
  template <typename Sink>
  friend void AbslStringify(Sink& sink, const ImageRef& r) {
    sink.Append(r.ToString());
  }

 private:
  ImageRef() = default;
  std::string registry_;
  std::string repository_;
  std::optional<std::string> tag_;
  std::optional<Digest> digest_;
};

}  // namespace shapin

#endif  // SHAPIN_COMMON_IMAGE_REF_H_
