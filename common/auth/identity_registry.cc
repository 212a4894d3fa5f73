#include "common/auth/identity_registry.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/auth/token_hash.h"
#include "common/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace shapin::auth {
namespace {

absl::Status Bad(absl::string_view where, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", why));
}

bool ValidSha256Hex(absl::string_view hex) {
  return hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

// A scalar field of an entry; empty when absent.
absl::StatusOr<std::string> Scalar(const YAML::Node& entry,
                                   absl::string_view key,
                                   absl::string_view where) {
  const YAML::Node node = entry[std::string(key)];
  if (!node) return std::string();
  if (!node.IsScalar())
    return Bad(where, absl::StrCat(key, ": expected a value"));
  return node.Scalar();
}

absl::StatusOr<Identity> ParseIdentity(const YAML::Node& entry,
                                       absl::string_view where,
                                       const std::set<std::string>& allowed) {
  if (!entry.IsMap()) return Bad(where, "expected a map");
  for (const auto& field : entry) {
    const std::string key = field.first.as<std::string>();
    if (allowed.count(key) == 0) {
      return Bad(where, absl::StrCat("unknown key \"", key, "\""));
    }
  }
  Identity id;
  SHAPIN_ASSIGN_OR_RETURN(id.name, Scalar(entry, "name", where));
  if (absl::Status s = ValidateIdentityName(id.name); !s.ok()) {
    return Bad(where, s.message());
  }
  const YAML::Node roles = entry["roles"];
  if (!roles || !roles.IsSequence() || roles.size() == 0) {
    return Bad(where, "roles: must list at least one role");
  }
  std::vector<std::string> names;
  for (const YAML::Node& r : roles) {
    if (!r.IsScalar()) return Bad(where, "roles: expected role names");
    names.push_back(r.Scalar());
  }
  absl::StatusOr<RoleSet> set = ParseRoles(names);
  if (!set.ok())
    return Bad(where, absl::StrCat("roles: ", set.status().message()));
  id.roles = *set;
  return id;
}

}  // namespace

absl::Status ValidateIdentityName(absl::string_view name) {
  const bool valid = !name.empty() && name.size() <= 64 &&
                     std::all_of(name.begin(), name.end(), [](char c) {
                       return absl::ascii_isalnum(c) || c == '.' || c == '_' ||
                              c == '@' || c == '-';
                     });
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "name: must be 1 to 64 of letters, digits, '.', '_', '@' or '-'");
}

absl::StatusOr<IdentityRegistry> IdentityRegistry::FromHashedTokens(
    std::vector<HashedToken> tokens, absl::string_view source) {
  IdentityRegistry registry;
  std::set<std::string> names;
  std::set<std::string> digests;
  for (HashedToken& token : tokens) {
    const std::string where =
        absl::StrCat(source, ": token \"", token.identity.name, "\"");
    if (absl::Status s = ValidateIdentityName(token.identity.name); !s.ok()) {
      return Bad(source, s.message());
    }
    if (token.identity.roles.empty()) {
      return Bad(where, "roles: must list at least one role");
    }
    if (!ValidSha256Hex(token.sha256_hex)) {
      return Bad(where, "sha256: must be 64 lower-case hex characters");
    }
    if (!names.insert(token.identity.name).second) {
      return Bad(where, "name is used twice");
    }
    if (!digests.insert(token.sha256_hex).second) {
      return Bad(where, "sha256: the same token is listed twice");
    }
    registry.tokens_.push_back(std::move(token));
  }
  return registry;
}

absl::StatusOr<IdentityRegistry> IdentityRegistry::LoadFile(
    absl::string_view path) {
  std::ifstream in{std::string(path)};
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("tokens file ", path, " cannot be read"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return LoadText(buffer.str(), path);
}

absl::StatusOr<IdentityRegistry> IdentityRegistry::LoadText(
    absl::string_view yaml, absl::string_view source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    // The parser's message quotes no content, only a position.
    return Bad(source, absl::StrCat("not valid YAML: ", e.what()));
  }
  IdentityRegistry registry;
  if (root.IsNull()) return registry;
  if (!root.IsMap()) return Bad(source, "expected a map with tokens:");
  for (const auto& section : root) {
    const std::string key = section.first.as<std::string>();
    if (key != "tokens" && key != "client_certificates") {
      return Bad(source, absl::StrCat("unknown key \"", key,
                                      "\" (allowed: tokens, "
                                      "client_certificates)"));
    }
    if (!section.second.IsNull() && !section.second.IsSequence()) {
      return Bad(source, absl::StrCat(key, ": expected a list"));
    }
  }
  std::set<std::string> names;
  std::set<std::string> digests;
  std::set<std::string> common_names;
  int index = 0;
  for (const YAML::Node& entry : root["tokens"]) {
    const std::string where = absl::StrCat(source, ": tokens[", index++, "]");
    SHAPIN_ASSIGN_OR_RETURN(
        Identity id, ParseIdentity(entry, where, {"name", "sha256", "roles"}));
    SHAPIN_ASSIGN_OR_RETURN(std::string hex, Scalar(entry, "sha256", where));
    if (!ValidSha256Hex(hex)) {
      return Bad(where,
                 "sha256: must be the token's SHA-256 as 64 lower-case hex "
                 "characters (never the token itself)");
    }
    if (!names.insert(id.name).second) {
      return Bad(where, absl::StrCat("name \"", id.name, "\" is used twice"));
    }
    if (!digests.insert(hex).second) {
      return Bad(where, "sha256: the same token is listed twice");
    }
    registry.tokens_.push_back({std::move(id), std::move(hex)});
  }
  index = 0;
  for (const YAML::Node& entry : root["client_certificates"]) {
    const std::string where =
        absl::StrCat(source, ": client_certificates[", index++, "]");
    SHAPIN_ASSIGN_OR_RETURN(
        Identity id,
        ParseIdentity(entry, where, {"name", "common_name", "roles"}));
    SHAPIN_ASSIGN_OR_RETURN(std::string cn,
                            Scalar(entry, "common_name", where));
    if (cn.empty() || cn.size() > 256) {
      return Bad(where, "common_name: is required (at most 256 bytes)");
    }
    if (!names.insert(id.name).second) {
      return Bad(where, absl::StrCat("name \"", id.name, "\" is used twice"));
    }
    if (!common_names.insert(cn).second) {
      return Bad(where, "common_name: listed twice");
    }
    registry.certificates_.push_back({std::move(id), std::move(cn)});
  }
  return registry;
}

std::optional<Identity> IdentityRegistry::FindByToken(
    absl::string_view token) const {
  return FindByTokenSha256(TokenSha256Hex(token));
}

std::optional<Identity> IdentityRegistry::FindByTokenSha256(
    absl::string_view presented) const {
  std::optional<Identity> found;
  // No early exit: every entry costs the same whether or not it matched.
  for (const TokenEntry& e : tokens_) {
    if (ConstantTimeEquals(presented, e.sha256_hex)) found = e.identity;
  }
  return found;
}

std::optional<Identity> IdentityRegistry::FindByCommonName(
    absl::string_view cn) const {
  for (const CertificateEntry& e : certificates_) {
    if (e.common_name == cn) return e.identity;
  }
  return std::nullopt;
}

}  // namespace shapin::auth
