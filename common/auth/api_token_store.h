// Where database tokens are kept (adapters/postgres_api_token_store.h is the
// PostgreSQL one). Speaks ApiTokenRecord only: no token, no pqxx type.
//
//   SHAPIN_RETURN_IF_ERROR(store.Create(minted.record));
//   SHAPIN_ASSIGN_OR_RETURN(std::vector<ApiTokenRecord> active,
//                           store.List(/*include_revoked=*/false));
//   SHAPIN_RETURN_IF_ERROR(store.Revoke("ci", "alice"));
#ifndef SHAPIN_COMMON_AUTH_API_TOKEN_STORE_H_
#define SHAPIN_COMMON_AUTH_API_TOKEN_STORE_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/api_token.h"

namespace shapin::auth {

class ApiTokenStore {
 public:
  virtual ~ApiTokenStore() = default;

  // Stores the record (created_at = now). ALREADY_EXISTS naming the name when
  // an active token already has it (revoke that one first).
  virtual absl::Status Create(const ApiTokenRecord& record) = 0;
  // Active tokens, or also revoked ones; oldest first.
  virtual absl::StatusOr<std::vector<ApiTokenRecord>> List(
      bool include_revoked) = 0;
  // Revokes the active token with this name. NOT_FOUND when there is none.
  virtual absl::Status Revoke(absl::string_view name,
                              absl::string_view revoked_by) = 0;
};

}  // namespace shapin::auth

#endif  // SHAPIN_COMMON_AUTH_API_TOKEN_STORE_H_
