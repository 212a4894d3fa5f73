#include "common/postgres_rows.h"

#include "absl/strings/str_cat.h"
#include "pqxx/pqxx"

namespace shapin {

absl::Status CorruptColumn(const pqxx::row& row, int column) {
  return absl::DataLossError(absl::StrCat(
      "database column ", row[column].name(), " holds an invalid value \"",
      row[column].is_null() ? "NULL" : row[column].c_str(), "\""));
}

std::string TextColumn(const pqxx::row& row, int column) {
  return row[column].is_null() ? "" : row[column].as<std::string>();
}

absl::StatusOr<GitSha> ShaColumn(const pqxx::row& row, int column) {
  absl::StatusOr<GitSha> sha = GitSha::Parse(TextColumn(row, column));
  if (!sha.ok()) return CorruptColumn(row, column);
  return sha;
}

absl::StatusOr<Digest> DigestColumn(const pqxx::row& row, int column) {
  absl::StatusOr<Digest> digest = Digest::Parse(TextColumn(row, column));
  if (!digest.ok()) return CorruptColumn(row, column);
  return digest;
}

absl::StatusOr<std::optional<Digest>> OptionalDigestColumn(const pqxx::row& row,
                                                           int column) {
  if (row[column].is_null()) return std::optional<Digest>();
  absl::StatusOr<Digest> digest = DigestColumn(row, column);
  if (!digest.ok()) return digest.status();
  return std::optional<Digest>(*digest);
}

absl::StatusOr<RepositoryType> RepositoryTypeColumn(const pqxx::row& row,
                                                    int column) {
  std::optional<RepositoryType> type =
      ParseRepositoryType(TextColumn(row, column));
  if (!type) return CorruptColumn(row, column);
  return *type;
}

std::optional<absl::Time> OptionalTimeColumn(const pqxx::row& row, int column) {
  if (row[column].is_null()) return std::nullopt;
  return absl::FromUnixMicros(
      static_cast<int64_t>(row[column].as<double>() * 1e6));
}

std::optional<double> OptionalDoubleColumn(const pqxx::row& row, int column) {
  if (row[column].is_null()) return std::nullopt;
  return row[column].as<double>();
}

}  // namespace shapin
