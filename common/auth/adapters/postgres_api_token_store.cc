#include "common/auth/adapters/postgres_api_token_store.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/postgres_rows.h"
#include "pqxx/pqxx"

namespace shapin::auth {

absl::Status PostgresApiTokenStore::Create(const ApiTokenRecord& record) {
  return pool_.Run([&](pqxx::connection& conn) -> absl::Status {
    try {
      pqxx::work tx(conn);
      tx.exec_params0(
          "INSERT INTO api_tokens (name, sha256, roles, created_by) "
          "VALUES ($1, $2, $3, $4)",
          record.name, record.sha256_hex, record.roles.ToString(),
          record.created_by);
      tx.commit();
      return absl::OkStatus();
    } catch (const pqxx::unique_violation&) {
      // The digest of 32 random bytes never collides; the name does.
      return absl::AlreadyExistsError(
          absl::StrCat("name: an active token is already named \"", record.name,
                       "\" (revoke it first)"));
    }
  });
}

absl::StatusOr<std::vector<ApiTokenRecord>> PostgresApiTokenStore::List(
    bool include_revoked) {
  std::vector<ApiTokenRecord> records;
  absl::Status status = pool_.Run([&](pqxx::connection& conn) -> absl::Status {
    pqxx::read_transaction tx(conn);
    const pqxx::result rows = tx.exec_params(
        "SELECT name, sha256, roles, extract(epoch from created_at), "
        "created_by, extract(epoch from revoked_at), revoked_by "
        "FROM api_tokens WHERE $1 OR revoked_at IS NULL ORDER BY token_id",
        include_revoked);
    for (const pqxx::row& row : rows) {
      ApiTokenRecord r;
      r.name = TextColumn(row, 0);
      r.sha256_hex = TextColumn(row, 1);
      const std::vector<std::string> role_names =
          absl::StrSplit(TextColumn(row, 2), ',', absl::SkipEmpty());
      absl::StatusOr<RoleSet> roles = ParseRoles(role_names);
      if (!roles.ok()) return CorruptColumn(row, 2);
      r.roles = *roles;
      r.created_at = OptionalTimeColumn(row, 3).value_or(absl::UnixEpoch());
      r.created_by = TextColumn(row, 4);
      r.revoked_at = OptionalTimeColumn(row, 5);
      r.revoked_by = TextColumn(row, 6);
      records.push_back(std::move(r));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return records;
}

absl::Status PostgresApiTokenStore::Revoke(absl::string_view name,
                                           absl::string_view revoked_by) {
  return pool_.Run([&](pqxx::connection& conn) -> absl::Status {
    pqxx::work tx(conn);
    const pqxx::result updated = tx.exec_params(
        "UPDATE api_tokens SET revoked_at = now(), revoked_by = $2 "
        "WHERE name = $1 AND revoked_at IS NULL",
        std::string(name), std::string(revoked_by));
    tx.commit();
    if (updated.affected_rows() == 0) {
      return absl::NotFoundError(
          absl::StrCat("name: no active token is named \"", name, "\""));
    }
    return absl::OkStatus();
  });
}

}  // namespace shapin::auth
