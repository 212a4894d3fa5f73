#include "common/registry/sha256_hasher.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"

namespace shapin::registry {

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) std::abort();
  Reset();
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(ctx_); }

void Sha256Hasher::Reset() {
  if (EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) std::abort();
  bytes_ = 0;
}

void Sha256Hasher::Update(absl::string_view bytes) {
  if (bytes.empty()) return;
  if (EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()) != 1) std::abort();
  bytes_ += bytes.size();
}

Digest Sha256Hasher::Finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_, md, &len) != 1) std::abort();
  std::string hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(md), len));
  Reset();
  // 64 lowercase hex characters by construction.
  return *Digest::FromSha256Hex(hex);
}

}  // namespace shapin::registry
