// Running SQL as prepared statements, named after their text.
//
// PostgreSQL parses, analyzes and plans every statement sent as text; for
// the small statements of the deploy path that was ~45 % of the server's CPU
// per call (docs/performance.md, preflight). A prepared statement is parsed
// and analyzed once per connection, and after a few executions runs on a
// generic plan. The name is derived from the SQL, so a call site passes its
// SQL exactly as it would to exec_params, and each pooled connection
// prepares it on first use (libpqxx sends the PREPARE lazily; a connection
// opened after a reconnect prepares again).
//
//   pqxx::nontransaction tx(c);
//   pqxx::result r = ExecPrepared(tx, "SELECT … WHERE git_sha = $1", sha);
//
// Two different texts with the same name (a hash collision) make libpqxx
// refuse the redefinition, which surfaces as an error, never a wrong query.
#ifndef SHAPIN_COMMON_PREPARED_STATEMENT_H_
#define SHAPIN_COMMON_PREPARED_STATEMENT_H_

#include <string>
#include <utility>

#include "pqxx/pqxx"

namespace shapin {

// "shapin_<hash of sql>".
std::string PreparedStatementName(const std::string& sql);

template <typename... Args>
pqxx::result ExecPrepared(pqxx::transaction_base& tx, const std::string& sql,
                          Args&&... args) {
  const std::string name = PreparedStatementName(sql);
  tx.conn().prepare(name, sql);  // a lookup once defined on this connection
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

// Exactly one row, as exec_params1.
template <typename... Args>
pqxx::row ExecPrepared1(pqxx::transaction_base& tx, const std::string& sql,
                        Args&&... args) {
  const std::string name = PreparedStatementName(sql);
  tx.conn().prepare(name, sql);
  return tx.exec_prepared1(name, std::forward<Args>(args)...);
}

}  // namespace shapin

#endif  // SHAPIN_COMMON_PREPARED_STATEMENT_H_
