#include "build-svc/branch_name.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace shapin::build {
namespace {

absl::Status Invalid(absl::string_view name, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "branch: \"", absl::CHexEscape(name.substr(0, 80)), "\" ", why));
}

}  // namespace

absl::string_view NormalizeBranchName(absl::string_view name) {
  absl::ConsumePrefix(&name, "refs/heads/");
  return name;
}

absl::Status ValidateBranchName(absl::string_view raw) {
  if (raw.empty()) return absl::InvalidArgumentError("branch: is required");
  const absl::string_view name = NormalizeBranchName(raw);
  if (name.empty()) return Invalid(raw, "names no branch");
  if (name.size() > 255) return Invalid(raw, "is longer than 255 bytes");
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == ' ' || c == '~' || c == '^' || c == ':' ||
        c == '?' || c == '*' || c == '[' || c == '\\') {
      return Invalid(raw, "contains a character git forbids in ref names");
    }
  }
  if (name == "@") return Invalid(raw, "is not a branch name");
  if (name.front() == '-') return Invalid(raw, "must not start with '-'");
  if (name.front() == '/' || name.back() == '/') {
    return Invalid(raw, "must not start or end with '/'");
  }
  if (name.back() == '.') return Invalid(raw, "must not end with '.'");
  for (absl::string_view bad : {"..", "@{", "//"}) {
    if (absl::StrContains(name, bad)) {
      return Invalid(raw, absl::StrCat("must not contain \"", bad, "\""));
    }
  }
  for (absl::string_view component : absl::StrSplit(name, '/')) {
    if (absl::StartsWith(component, ".")) {
      return Invalid(raw, "has a component starting with '.'");
    }
    if (absl::EndsWith(component, ".lock")) {
      return Invalid(raw, "has a component ending with \".lock\"");
    }
  }
  return absl::OkStatus();
}

bool IsPullRequestRef(absl::string_view name) {
  absl::ConsumePrefix(&name, "refs/");
  return absl::StartsWith(name, "pull/") ||
         absl::StartsWith(name, "merge-requests/");
}

}  // namespace shapin::build
