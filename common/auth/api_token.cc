#include "common/auth/api_token.h"

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/auth/token_hash.h"

namespace shapin::auth {
namespace {

// 256 bits: guessing is out of reach, and the prefix lets secret scanners
// recognise a leaked token.
constexpr int kTokenBytes = 32;
constexpr absl::string_view kTokenPrefix = "shapin_";

}  // namespace

absl::StatusOr<MintedApiToken> MintApiToken(
    absl::string_view name, const std::vector<std::string>& roles,
    absl::string_view created_by) {
  if (absl::Status s = ValidateIdentityName(name); !s.ok()) return s;
  if (roles.empty()) {
    return absl::InvalidArgumentError("roles: must list at least one role");
  }
  absl::StatusOr<RoleSet> role_set = ParseRoles(roles);
  if (!role_set.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("roles: ", role_set.status().message()));
  }
  unsigned char random[kTokenBytes];
  if (RAND_bytes(random, kTokenBytes) != 1) {
    return absl::InternalError("OpenSSL RAND_bytes failed: no randomness");
  }
  MintedApiToken minted;
  minted.token = absl::StrCat(
      kTokenPrefix, absl::WebSafeBase64Escape(absl::string_view(
                        reinterpret_cast<const char*>(random), kTokenBytes)));
  minted.record.name = std::string(name);
  minted.record.sha256_hex = TokenSha256Hex(minted.token);
  minted.record.roles = *role_set;
  minted.record.created_by = std::string(created_by);
  return minted;
}

std::string AbbreviatedDigest(absl::string_view sha256_hex) {
  return absl::StrCat(sha256_hex.substr(0, 12), "…");
}

absl::StatusOr<IdentityRegistry> ActiveTokenIdentities(
    const std::vector<ApiTokenRecord>& records, absl::string_view source) {
  std::vector<HashedToken> active;
  for (const ApiTokenRecord& r : records) {
    if (r.revoked_at) continue;
    active.push_back({{r.name, r.roles}, r.sha256_hex});
  }
  return IdentityRegistry::FromHashedTokens(std::move(active), source);
}

}  // namespace shapin::auth
