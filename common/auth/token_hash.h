// How bearer tokens are stored and compared: only their SHA-256 (lower-case
// hex) is kept, and digests are compared in constant time, so neither the
// configuration nor response timing reveals a token.
//
//   std::string stored = TokenSha256Hex(token);  // 64 hex characters
//   ConstantTimeEquals(TokenSha256Hex(presented), stored);
#ifndef SHAPIN_COMMON_AUTH_TOKEN_HASH_H_
#define SHAPIN_COMMON_AUTH_TOKEN_HASH_H_

#include <string>

#include "absl/strings/string_view.h"

namespace shapin::auth {

// SHA-256 of `token` as 64 lower-case hex characters (OpenSSL EVP).
std::string TokenSha256Hex(absl::string_view token);

// True when a and b are equal; the time taken depends only on their sizes.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace shapin::auth

#endif  // SHAPIN_COMMON_AUTH_TOKEN_HASH_H_
