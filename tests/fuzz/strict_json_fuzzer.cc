// Fuzz target for ParseStrictJson, the gate every signed document passes
// (duplicate keys, depth, size, UTF-8), and its typed accessors. An accepted
// document re-serialised by nlohmann is accepted again and equal, and the
// JCS string form of every top-level string member is valid JSON for the
// same string.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/signature/strict_json.h"
#include "nlohmann/json.hpp"
#include "tests/fuzz/fuzz_check.h"

namespace {

using Json = nlohmann::json;
using shapin::signature::ParseStrictJson;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Json> doc = ParseStrictJson(text);
  if (!doc.ok()) return 0;
  const std::string dumped = doc->dump();
  absl::StatusOr<Json> again = ParseStrictJson(dumped);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *doc);
  if (!doc->is_object()) return 0;
  for (auto it = doc->begin(); it != doc->end(); ++it) {
    const std::string& key = it.key();
    FUZZ_CHECK(shapin::signature::FindMember(*doc, key) != nullptr);
    (void)shapin::signature::FindObject(*doc, key);
    (void)shapin::signature::FindArray(*doc, key);
    (void)shapin::signature::FindInt64(*doc, key);
    if (const std::string* s = shapin::signature::FindString(*doc, key)) {
      absl::StatusOr<Json> quoted =
          ParseStrictJson(shapin::signature::CanonicalJsonString(*s));
      FUZZ_CHECK(quoted.ok() && quoted->is_string());
      FUZZ_CHECK(quoted->get_ref<const std::string&>() == *s);
    }
  }
  return 0;
}
