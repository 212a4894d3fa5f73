// Fuzz target for ParseWwwAuthenticate (registry 401 challenges): never
// crashes, and what it returns is normalised (lower-case scheme and
// parameter names, never an empty scheme).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "common/registry/auth_challenge.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view header(reinterpret_cast<const char*>(data), size);
  const std::vector<shapin::registry::AuthChallenge> challenges =
      shapin::registry::ParseWwwAuthenticate(header);
  for (const shapin::registry::AuthChallenge& c : challenges) {
    FUZZ_CHECK(!c.scheme.empty());
    FUZZ_CHECK(c.scheme == absl::AsciiStrToLower(c.scheme));
    for (const auto& [name, value] : c.params) {
      FUZZ_CHECK(name == absl::AsciiStrToLower(name));
      FUZZ_CHECK(value.size() <= header.size());
    }
    (void)c.Param("realm");
  }
  return 0;
}
