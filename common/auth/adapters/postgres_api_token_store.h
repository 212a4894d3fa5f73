// ApiTokenStore on PostgreSQL (table api_tokens, migration 3). Names are
// unique among active tokens (a partial unique index), so a name can be
// reused after its token is revoked; revoked rows stay as history.
//
//   PostgresApiTokenStore store(pool);
//   SHAPIN_RETURN_IF_ERROR(store.Create(minted.record));
#ifndef SHAPIN_COMMON_AUTH_ADAPTERS_POSTGRES_API_TOKEN_STORE_H_
#define SHAPIN_COMMON_AUTH_ADAPTERS_POSTGRES_API_TOKEN_STORE_H_

#include <vector>

#include "common/auth/api_token_store.h"
#include "common/postgres_pool.h"

namespace shapin::auth {

class PostgresApiTokenStore : public ApiTokenStore {
 public:
  // `pool` must outlive the store.
  explicit PostgresApiTokenStore(PostgresPool& pool) : pool_(pool) {}

  absl::Status Create(const ApiTokenRecord& record) override;
  absl::StatusOr<std::vector<ApiTokenRecord>> List(
      bool include_revoked) override;
  absl::Status Revoke(absl::string_view name,
                      absl::string_view revoked_by) override;

 private:
  PostgresPool& pool_;
};

}  // namespace shapin::auth

#endif  // SHAPIN_COMMON_AUTH_ADAPTERS_POSTGRES_API_TOKEN_STORE_H_
