// Digest: a content digest as used by OCI registries, "sha256:<64 hex>".
//
// Only sha256 is accepted: it is what every registry and cosign use, and a
// single algorithm keeps equality a plain string comparison.
//
//   SHAPIN_ASSIGN_OR_RETURN(Digest d, Digest::Parse(header_value));
//   Digest computed = Digest::OfBytes(manifest_bytes);
//   if (computed != d) { ... }
//   d.tag_fallback()  // "sha256-<hex>", the cosign/referrers fallback tag stem
#ifndef SHAPIN_COMMON_DIGEST_H_
#define SHAPIN_COMMON_DIGEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shapin {

class Digest {
 public:
  // INVALID_ARGUMENT unless `text` is "sha256:" followed by exactly 64
  // lowercase hex characters.
  static absl::StatusOr<Digest> Parse(absl::string_view text);
  // INVALID_ARGUMENT unless `hex` is 64 lowercase hex characters.
  static absl::StatusOr<Digest> FromSha256Hex(absl::string_view hex);
  // SHA-256 of `bytes` (OpenSSL EVP).
  static Digest OfBytes(absl::string_view bytes);

  const std::string& str() const { return text_; }        // "sha256:…"
  absl::string_view algorithm() const { return "sha256"; }
  absl::string_view hex() const { return absl::string_view(text_).substr(7); }
  // "sha256-<hex>": the tag cosign and the OCI referrers fallback use.
  std::string tag_fallback() const;

  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Digest& d) {
    return H::combine(std::move(h), d.text_);
  }
  template <typename Sink>
  friend void AbslStringify(Sink& sink, const Digest& d) {
    sink.Append(d.text_);
  }

 private:
  explicit Digest(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

}  // namespace shapin

#endif  // SHAPIN_COMMON_DIGEST_H_
