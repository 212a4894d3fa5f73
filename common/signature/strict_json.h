// Strict JSON parsing for signed documents, plus small typed accessors.
//
// Signed payloads, DSSE envelopes, in-toto statements and bundles are read
// with ParseStrictJson: an object with a duplicate key is rejected (two
// parsers could otherwise disagree about which value was signed), as are
// invalid UTF-8, trailing bytes, nesting deeper than `max_depth` and inputs
// over `max_bytes`. nlohmann::json keeps the last duplicate silently, so
// duplicates are detected with its parser callback.
//
//   SHAPIN_ASSIGN_OR_RETURN(nlohmann::json doc, ParseStrictJson(bytes));
//   const std::string* type = FindString(doc, "payloadType");
//   if (type == nullptr) ...  // absent or not a string
#ifndef SHAPIN_COMMON_SIGNATURE_STRICT_JSON_H_
#define SHAPIN_COMMON_SIGNATURE_STRICT_JSON_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace shapin::signature {

inline constexpr size_t kMaxJsonBytes = size_t{4} << 20;
inline constexpr int kMaxJsonDepth = 64;

// INVALID_ARGUMENT ("invalid JSON: …", "duplicate key \"type\"", "JSON nested
// deeper than 64 levels", …) for anything but one well-formed JSON value.
absl::StatusOr<nlohmann::json> ParseStrictJson(
    absl::string_view text, int max_depth = kMaxJsonDepth,
    size_t max_bytes = kMaxJsonBytes);

// The member `key` of `object` when `object` is an object holding a value of
// the asked type; nullptr otherwise (absent, wrong type, `object` not an
// object). Never throws.
const nlohmann::json* FindMember(const nlohmann::json& object,
                                 absl::string_view key);
const nlohmann::json* FindObject(const nlohmann::json& object,
                                 absl::string_view key);
const nlohmann::json* FindArray(const nlohmann::json& object,
                                absl::string_view key);
const std::string* FindString(const nlohmann::json& object,
                              absl::string_view key);
// An integer member (JSON number without fraction, or — as protobuf JSON
// writes int64 — a string of decimal digits with an optional '-').
std::optional<int64_t> FindInt64(const nlohmann::json& object,
                                 absl::string_view key);

// RFC 8785 (JCS) serialisation of a JSON string value: quotes, backslash
// escapes for '"' and '\\', short escapes for \b \f \n \r \t, \u00xx for the
// other control characters, every other byte as is.
std::string CanonicalJsonString(absl::string_view value);

}  // namespace shapin::signature

#endif  // SHAPIN_COMMON_SIGNATURE_STRICT_JSON_H_
