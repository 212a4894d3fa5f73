// Who may call the services: named identities with roles, recognised by a
// bearer token (stored as its SHA-256 only) or by the common name of a
// verified mTLS client certificate. Loaded from the YAML file named by
// `auth.tokens_file`:
//
//   tokens:
//     - name: ci                 # becomes requested_by of what it asks for
//       sha256: 9f86d081884c7d65…  # sha256sum of the token, lower-case hex
//       roles: [builder, viewer]
//   client_certificates:
//     - common_name: deploy-bot.example.org  # subject CN of the client cert
//       name: deploy-bot
//       roles: [deployer, viewer]
//
//   SHAPIN_ASSIGN_OR_RETURN(IdentityRegistry ids,
//                           IdentityRegistry::LoadFile(path));
//   std::optional<Identity> who = ids.FindByToken(presented_token);
#ifndef SHAPIN_COMMON_AUTH_IDENTITY_REGISTRY_H_
#define SHAPIN_COMMON_AUTH_IDENTITY_REGISTRY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/role.h"

namespace shapin::auth {

// An authenticated caller.
struct Identity {
  std::string name;
  RoleSet roles;
};

// A token known only by its SHA-256 (lower-case hex).
struct HashedToken {
  Identity identity;
  std::string sha256_hex;
};

// OK when `name` is 1 to 64 of letters, digits, '.', '_', '@' or '-' (the
// rule for every identity name, in the file and in the database); else
// INVALID_ARGUMENT "name: must be …".
absl::Status ValidateIdentityName(absl::string_view name);

class IdentityRegistry {
 public:
  IdentityRegistry() = default;

  // INVALID_ARGUMENT naming the file and the entry for malformed YAML,
  // unknown keys, a name that is not [A-Za-z0-9._@-]{1,64}, a sha256 that is
  // not 64 lower-case hex characters, unknown or missing roles, or a name,
  // digest or common name used twice. NOT_FOUND when unreadable.
  static absl::StatusOr<IdentityRegistry> LoadFile(absl::string_view path);
  static absl::StatusOr<IdentityRegistry> LoadText(absl::string_view yaml,
                                                   absl::string_view source);
  // Tokens only (e.g. the database's active ones), checked by the same rules
  // as the file: INVALID_ARGUMENT naming `source` and the entry otherwise.
  static absl::StatusOr<IdentityRegistry> FromHashedTokens(
      std::vector<HashedToken> tokens, absl::string_view source);

  // The identity whose digest matches SHA-256(token); every stored digest is
  // compared in constant time, so the answer's timing reveals nothing.
  std::optional<Identity> FindByToken(absl::string_view token) const;
  // The same, given the token's SHA-256 (TokenSha256Hex): a caller searching
  // several registries hashes the presented token once.
  std::optional<Identity> FindByTokenSha256(absl::string_view sha256_hex) const;
  // The identity mapped to a verified client certificate's subject CN.
  std::optional<Identity> FindByCommonName(absl::string_view cn) const;

  bool empty() const { return tokens_.empty() && certificates_.empty(); }
  size_t token_count() const { return tokens_.size(); }
  size_t certificate_count() const { return certificates_.size(); }

 private:
  using TokenEntry = HashedToken;
  struct CertificateEntry {
    Identity identity;
    std::string common_name;
  };
  std::vector<TokenEntry> tokens_;
  std::vector<CertificateEntry> certificates_;
};

}  // namespace shapin::auth

#endif  // SHAPIN_COMMON_AUTH_IDENTITY_REGISTRY_H_
