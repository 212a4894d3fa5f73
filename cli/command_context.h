// What every command gets: the parsed command line, the connection, the
// output format and style, and the shared ways to print results and report
// failed calls with the right exit code.
//
//   int RunCurrent(CommandContext& ctx) {
//     ...
//     grpc::Status s = stub->GetCurrent(call.get(), request, &reply);
//     if (!s.ok()) return ctx.Fail("current", ctx.settings().deploy_addr, s);
//     if (ctx.json()) return ctx.PrintJson(reply);
//     ...
//   }
#ifndef SHAPIN_CLI_COMMAND_CONTEXT_H_
#define SHAPIN_CLI_COMMAND_CONTEXT_H_

#include <initializer_list>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cli/command_line.h"
#include "cli/connection.h"
#include "cli/terminal_style.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/status.h"

namespace shapin::cli {

enum class OutputFormat { kTable, kJson };

struct CommandContext {
  const Invocation& inv;
  Connection& conn;
  OutputFormat format = OutputFormat::kTable;
  TerminalStyle style{false};
  // Stdout is a terminal: progress redraws in place.
  bool live = false;
  std::ostream& out;
  std::ostream& err;
  // Deadline of quick calls (reads); long calls (builds, deploys) have none.
  absl::Duration timeout = absl::Seconds(30);
  // Recorded as requested_by: --requested-by, else $USER, else "shapin-cli".
  std::string requested_by;

  bool json() const { return format == OutputFormat::kJson; }

  // Prints `message` as JSON (proto field names, every field present),
  // returns kExitOk (kExitFailure if it cannot be printed).
  int PrintJson(const google::protobuf::Message& message) const;
  // The same on one line (JSON Lines, for streamed events).
  int PrintJsonLine(const google::protobuf::Message& message) const;

  // Reports a failed call on stderr ("shapin: deploy: MISSING_TAG …") and
  // returns its exit code. `addr` is named when the server was unreachable.
  int Fail(absl::string_view what, absl::string_view addr,
           const grpc::Status& status) const;
  // Same for a local error (e.g. an unreadable --ca-file).
  int Fail(absl::string_view what, const absl::Status& status) const;
};

// grpc::Status as absl::Status (same codes, same message).
absl::Status ToAbslStatus(const grpc::Status& status);

// "BUILD_STATE_SUCCEEDED" with prefix "BUILD_STATE_" → "succeeded".
std::string EnumLabel(absl::string_view enum_name, absl::string_view prefix);

// The non-empty parts joined by a space ("" when all are empty).
std::string JoinNonEmpty(std::initializer_list<absl::string_view> parts);

// A record's error for people: the message when it already starts with the
// code (as deploy-svc and build-svc write them), else "CODE message".
std::string ErrorText(absl::string_view error_code,
                      absl::string_view error_message);

// The first 12 characters of a SHA (or "" for "").
std::string ShortSha(absl::string_view sha);

}  // namespace shapin::cli

#endif  // SHAPIN_CLI_COMMAND_CONTEXT_H_
