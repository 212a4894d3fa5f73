// Sha256Hasher: streamed SHA-256 (OpenSSL EVP) producing a Digest.
//
// Used wherever bytes pass through the client so that digests are verified
// while reading, never trusted:
//
//   Sha256Hasher hasher;
//   while (...) hasher.Update(chunk);
//   Digest got = hasher.Finish();
//   if (got != expected) return ShapinError(ErrorCode::kDigestMismatch, ...);
#ifndef SHAPIN_COMMON_REGISTRY_SHA256_HASHER_H_
#define SHAPIN_COMMON_REGISTRY_SHA256_HASHER_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "common/digest.h"

struct evp_md_ctx_st;

namespace shapin::registry {

class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(absl::string_view bytes);
  // The digest of everything since construction or the last Reset(); the
  // hasher is reset afterwards.
  Digest Finish();
  void Reset();
  // Bytes hashed since construction or the last Reset().
  uint64_t bytes() const { return bytes_; }

 private:
  evp_md_ctx_st* ctx_;
  uint64_t bytes_ = 0;
};

}  // namespace shapin::registry

#endif  // SHAPIN_COMMON_REGISTRY_SHA256_HASHER_H_
