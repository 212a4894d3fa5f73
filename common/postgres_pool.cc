#include "common/postgres_pool.h"

#include <poll.h>

#include <exception>
#include <regex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "pqxx/pqxx"

namespace shapin {
namespace {

// Removes the password from "postgresql://user:pw@host/db" and from
// "password=pw" key/value strings.
std::string WithoutPassword(const std::string& url) {
  static const std::regex kUriPassword(R"(://([^:/@]*):[^@]*@)");
  static const std::regex kKeyValuePassword(R"(password\s*=\s*\S+)");
  std::string out = std::regex_replace(url, kUriPassword, "://$1:***@");
  return std::regex_replace(out, kKeyValuePassword, "password=***");
}

bool IsConnectionError(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) return true;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    // Class 08: connection exception; 57P0x: operator intervention
    // (admin shutdown, crash shutdown, cannot connect now).
    return state.rfind("08", 0) == 0 || state.rfind("57P0", 0) == 0;
  }
  return false;
}

// An idle connection has nothing to read: when its socket is readable or
// hung up, the server closed it (restart, admin shutdown, idle timeout).
// Checked before reuse so that the first calls after a database restart do
// not fail on connections that died while idle.
bool IdleConnectionClosed(const pqxx::connection& conn) {
  const int fd = conn.sock();
  if (fd < 0) return true;
  pollfd p{.fd = fd, .events = POLLIN | POLLRDHUP, .revents = 0};
  return poll(&p, 1, 0) != 0;
}

}  // namespace

absl::Status PostgresErrorToStatus(absl::string_view context) {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(
        absl::StrCat(context, ": database connection lost: ", e.what()));
  } catch (const pqxx::unique_violation& e) {
    return absl::AlreadyExistsError(absl::StrCat(context, ": ", e.what()));
  } catch (const pqxx::integrity_constraint_violation& e) {
    return absl::FailedPreconditionError(absl::StrCat(context, ": ", e.what()));
  } catch (const pqxx::serialization_failure& e) {
    return absl::AbortedError(absl::StrCat(context, ": ", e.what()));
  } catch (const pqxx::deadlock_detected& e) {
    return absl::AbortedError(absl::StrCat(context, ": ", e.what()));
  } catch (const pqxx::in_doubt_error& e) {
    return absl::UnavailableError(absl::StrCat(
        context, ": commit outcome unknown (connection lost): ", e.what()));
  } catch (const pqxx::sql_error& e) {
    if (IsConnectionError(e)) {
      return absl::UnavailableError(
          absl::StrCat(context, ": database unavailable: ", e.what()));
    }
    return absl::InternalError(absl::StrCat(context, ": ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(context, ": ", e.what()));
  }
}

PostgresPool::PostgresPool(PostgresPoolOptions options)
    : options_(std::move(options)),
      display_url_(WithoutPassword(options_.url)) {}

PostgresPool::~PostgresPool() = default;

absl::StatusOr<std::unique_ptr<PostgresPool>> PostgresPool::Connect(
    const PostgresPoolOptions& options) {
  if (options.size < 1) {
    return absl::InvalidArgumentError("database pool size must be at least 1");
  }
  auto pool = std::unique_ptr<PostgresPool>(new PostgresPool(options));
  absl::StatusOr<std::unique_ptr<pqxx::connection>> first = pool->Acquire();
  if (!first.ok()) return first.status();
  pool->Release(std::move(first).value(), /*broken=*/false);
  return pool;
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> PostgresPool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.size;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&available),
                              options_.acquire_timeout)) {
      return absl::UnavailableError(absl::StrCat(
          "database ", display_url_, ": no connection free within ",
          absl::FormatDuration(options_.acquire_timeout)));
    }
    while (!idle_.empty()) {
      std::unique_ptr<pqxx::connection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (!IdleConnectionClosed(*conn)) return conn;
      --open_;  // dropped; a fresh one is opened below
    }
    ++open_;  // reserve a slot; connect outside the lock
  }
  try {
    const int timeout_s =
        std::max<int64_t>(1, absl::ToInt64Seconds(options_.acquire_timeout));
    std::string url = options_.url;
    // libpq honours connect_timeout from the environment-free option string
    // only; URLs take it as a parameter.
    url += (url.find("://") != std::string::npos)
               ? (url.find('?') == std::string::npos ? "?" : "&")
               : " ";
    url += absl::StrCat("connect_timeout=", timeout_s);
    return std::make_unique<pqxx::connection>(url);
  } catch (const std::exception& e) {
    absl::MutexLock lock(&mu_);
    --open_;
    return absl::UnavailableError(
        absl::StrCat("database ", display_url_,
                     ": cannot connect: ", Logger::Global().Redact(e.what())));
  }
}

void PostgresPool::Release(std::unique_ptr<pqxx::connection> conn,
                           bool broken) {
  absl::MutexLock lock(&mu_);
  if (broken || !conn->is_open()) {
    --open_;
    return;
  }
  idle_.push_back(std::move(conn));
}

absl::Status PostgresPool::Run(
    absl::FunctionRef<absl::Status(pqxx::connection&)> fn) {
  absl::StatusOr<std::unique_ptr<pqxx::connection>> conn = Acquire();
  if (!conn.ok()) return conn.status();
  absl::Status result;
  bool broken = false;
  try {
    result = fn(**conn);
  } catch (const std::exception& e) {
    broken = IsConnectionError(e) ||
             dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr;
    result = PostgresErrorToStatus("database");
  }
  if (absl::IsUnavailable(result)) broken = true;
  Release(std::move(conn).value(), broken);
  return result;
}

}  // namespace shapin
