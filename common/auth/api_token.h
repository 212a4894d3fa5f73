// Bearer tokens kept in the database (table api_tokens), administered with
// shapin-tokens: minting a new one and the record that is stored of it. The
// token itself exists only in MintApiToken's result, to be shown once; the
// record holds its SHA-256.
//
//   SHAPIN_ASSIGN_OR_RETURN(MintedApiToken minted,
//                           MintApiToken("ci", {"builder", "viewer"},
//                           "alice"));
//   SHAPIN_RETURN_IF_ERROR(store.Create(minted.record));
//   std::cout << minted.token << "\n";  // once; never logged
#ifndef SHAPIN_COMMON_AUTH_API_TOKEN_H_
#define SHAPIN_COMMON_AUTH_API_TOKEN_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/identity_registry.h"
#include "common/auth/role.h"

namespace shapin::auth {

// A stored token: never the token, only its digest.
struct ApiTokenRecord {
  std::string name;        // the caller's name (requested_by)
  std::string sha256_hex;  // SHA-256 of the token, lower-case hex
  RoleSet roles;
  absl::Time created_at = absl::InfinitePast();
  std::string created_by;
  std::optional<absl::Time> revoked_at;  // set once revoked
  std::string revoked_by;
};

struct MintedApiToken {
  std::string token;  // "shapin_" + 43 base64url characters (32 random bytes)
  ApiTokenRecord record;
};

// A fresh token from OpenSSL RAND_bytes and its record (created_at left for
// the store). INVALID_ARGUMENT naming the field ("name: …", "roles: …") by
// the same rules as auth.tokens_file; INTERNAL when no randomness is
// available.
absl::StatusOr<MintedApiToken> MintApiToken(
    absl::string_view name, const std::vector<std::string>& roles,
    absl::string_view created_by);

// The first 12 hex characters and an ellipsis: enough to tell tokens apart in
// a listing, never the whole digest.
std::string AbbreviatedDigest(absl::string_view sha256_hex);

// The active (not revoked) records as identities to authenticate against.
absl::StatusOr<IdentityRegistry> ActiveTokenIdentities(
    const std::vector<ApiTokenRecord>& records, absl::string_view source);

}  // namespace shapin::auth

#endif  // SHAPIN_COMMON_AUTH_API_TOKEN_H_
