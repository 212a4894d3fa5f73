#include "common/request_fields.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/error_code.h"

namespace shapin {

absl::Status CheckTextField(absl::string_view field, absl::string_view value,
                            size_t max_bytes) {
  if (value.size() > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": at most ", max_bytes, " bytes, got ", value.size()));
  }
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": must not contain control characters"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<GitSha> ParseShaField(absl::string_view field,
                                     absl::string_view value) {
  if (value.empty()) {
    return ShapinError(ErrorCode::kMissingSha,
                       absl::StrCat(field,
                                    ": is required (the full 40-character "
                                    "commit SHA)"));
  }
  absl::StatusOr<GitSha> sha = GitSha::Parse(value);
  if (!sha.ok()) {
    return ShapinError(ErrorCode::kMissingSha,
                       absl::StrCat(field, ": ", sha.status().message()));
  }
  return sha;
}

absl::StatusOr<int64_t> ParseIdField(absl::string_view field,
                                     absl::string_view value) {
  int64_t id = 0;
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  }
  if (value.size() > kMaxIdBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": at most ", kMaxIdBytes, " bytes, got ", value.size()));
  }
  if (!absl::SimpleAtoi(value, &id) || id <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be a positive number, got \"",
                     value.substr(0, 64), "\""));
  }
  return id;
}

}  // namespace shapin
