#include "cli/command_context.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/exit_code.h"
#include "google/protobuf/util/json_util.h"

namespace shapin::cli {

namespace {

int PrintJsonTo(std::ostream& out, std::ostream& err,
                const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    err << "shapin: cannot print JSON: " << status.ToString() << "\n";
    return kExitFailure;
  }
  out << json;
  if (json.empty() || json.back() != '\n') out << "\n";
  out.flush();
  return kExitOk;
}

}  // namespace

int CommandContext::PrintJson(const google::protobuf::Message& message) const {
  return PrintJsonTo(out, err, message, /*pretty=*/true);
}

int CommandContext::PrintJsonLine(
    const google::protobuf::Message& message) const {
  return PrintJsonTo(out, err, message, /*pretty=*/false);
}

int CommandContext::Fail(absl::string_view what, absl::string_view addr,
                         const grpc::Status& status) const {
  absl::Status s = ToAbslStatus(status);
  std::string where;
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    where = absl::StrCat(" (server ", addr, ")");
  }
  err << "shapin: " << what << ": " << status.error_message() << where << " ["
      << absl::StatusCodeToString(s.code()) << "]\n";
  return ExitCodeForStatus(s);
}

int CommandContext::Fail(absl::string_view what,
                         const absl::Status& status) const {
  err << "shapin: " << what << ": " << status.message() << "\n";
  return ExitCodeForStatus(status);
}

absl::Status ToAbslStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

std::string EnumLabel(absl::string_view enum_name, absl::string_view prefix) {
  absl::string_view rest = enum_name;
  if (absl::StartsWith(rest, prefix)) rest.remove_prefix(prefix.size());
  if (rest == "UNSPECIFIED") return "";
  return absl::AsciiStrToLower(rest);
}

std::string JoinNonEmpty(std::initializer_list<absl::string_view> parts) {
  std::string out;
  for (absl::string_view p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += ' ';
    absl::StrAppend(&out, p);
  }
  return out;
}

std::string ErrorText(absl::string_view error_code,
                      absl::string_view error_message) {
  if (!error_code.empty() && absl::StartsWith(error_message, error_code)) {
    return std::string(error_message);
  }
  return JoinNonEmpty({error_code, error_message});
}

std::string ShortSha(absl::string_view sha) {
  return std::string(sha.substr(0, 12));
}

}  // namespace shapin::cli
