// Reading domain values out of libpqxx rows, for the Postgres stores.
//
// A value that violates its type (a malformed digest in a digest column) is
// DATA_LOSS naming the column: the database was changed behind our back, and
// returning it as if valid would spread the corruption.
#ifndef SHAPIN_COMMON_POSTGRES_ROWS_H_
#define SHAPIN_COMMON_POSTGRES_ROWS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/git_sha.h"
#include "common/repository_type.h"
#include "pqxx/row"

namespace shapin {

absl::Status CorruptColumn(const pqxx::row& row, int column);
// "" for NULL.
std::string TextColumn(const pqxx::row& row, int column);
absl::StatusOr<GitSha> ShaColumn(const pqxx::row& row, int column);
absl::StatusOr<Digest> DigestColumn(const pqxx::row& row, int column);
absl::StatusOr<std::optional<Digest>> OptionalDigestColumn(const pqxx::row& row,
                                                           int column);
absl::StatusOr<RepositoryType> RepositoryTypeColumn(const pqxx::row& row,
                                                    int column);
// From `extract(epoch from <timestamptz>)`.
std::optional<absl::Time> OptionalTimeColumn(const pqxx::row& row, int column);
std::optional<double> OptionalDoubleColumn(const pqxx::row& row, int column);

}  // namespace shapin

#endif  // SHAPIN_COMMON_POSTGRES_ROWS_H_
