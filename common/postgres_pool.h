// PostgresPool: a bounded pool of libpqxx connections with status mapping.
//
// Stores run their SQL inside Run(); libpqxx exceptions become statuses
// chosen by what the caller should do next, so no pqxx exception escapes an
// adapter:
//   broken connection / cannot connect / admin shutdown → UNAVAILABLE (the
//     connection is dropped; the next call reconnects)
// An idle connection the server closed meanwhile (database restart) is
// noticed before reuse and replaced, so calls after a restart do not fail.
//   serialization failure, deadlock                     → ABORTED
//   unique violation                                    → ALREADY_EXISTS
//   check / foreign-key / not-null violation            → FAILED_PRECONDITION
//   anything else                                       → INTERNAL
//
//   SHAPIN_ASSIGN_OR_RETURN(auto pool, PostgresPool::Connect(options));
//   absl::Status s = pool->Run([&](pqxx::connection& c) -> absl::Status {
//     pqxx::work tx(c);
//     tx.exec_params("UPDATE builds SET state = $1 WHERE build_id = $2", …);
//     tx.commit();
//     return absl::OkStatus();
//   });
#ifndef SHAPIN_COMMON_POSTGRES_POOL_H_
#define SHAPIN_COMMON_POSTGRES_POOL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pqxx/connection"

namespace shapin {

struct PostgresPoolOptions {
  std::string url;  // never logged: it may carry a password
  int size = 4;
  // How long Run() waits for a free connection, and for connecting.
  absl::Duration acquire_timeout = absl::Seconds(10);
};

class PostgresPool {
 public:
  // Opens one connection to check the URL; UNAVAILABLE naming host and
  // database (not the password) when that fails.
  static absl::StatusOr<std::unique_ptr<PostgresPool>> Connect(
      const PostgresPoolOptions& options);
  ~PostgresPool();

  // Runs `fn` with an exclusive connection. UNAVAILABLE when none frees up in
  // time or the server cannot be reached.
  absl::Status Run(absl::FunctionRef<absl::Status(pqxx::connection&)> fn);

  // The pool's URL with any password removed, for messages.
  const std::string& display_url() const { return display_url_; }

 private:
  explicit PostgresPool(PostgresPoolOptions options);
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Acquire();
  void Release(std::unique_ptr<pqxx::connection> conn, bool broken);

  const PostgresPoolOptions options_;
  const std::string display_url_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

// Converts the exception currently being handled (call only inside a catch
// block) into a status; `context` prefixes the message.
absl::Status PostgresErrorToStatus(absl::string_view context);

}  // namespace shapin

#endif  // SHAPIN_COMMON_POSTGRES_POOL_H_
