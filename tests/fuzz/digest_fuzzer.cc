// Fuzz target for Digest::Parse and Digest::FromSha256Hex: what is accepted
// is canonical ("sha256:" + 64 lowercase hex) and round-trips.
#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<shapin::Digest> digest = shapin::Digest::Parse(text);
  if (digest.ok()) {
    FUZZ_CHECK(digest->str() == text);
    FUZZ_CHECK(absl::StartsWith(digest->str(), "sha256:"));
    FUZZ_CHECK(digest->hex().size() == 64);
    FUZZ_CHECK(digest->tag_fallback() ==
               std::string("sha256-") + std::string(digest->hex()));
    absl::StatusOr<shapin::Digest> again =
        shapin::Digest::FromSha256Hex(digest->hex());
    FUZZ_CHECK(again.ok() && *again == *digest);
  }
  absl::StatusOr<shapin::Digest> from_hex = shapin::Digest::FromSha256Hex(text);
  if (from_hex.ok()) {
    FUZZ_CHECK(from_hex->hex() == text);
    absl::StatusOr<shapin::Digest> reparsed =
        shapin::Digest::Parse(from_hex->str());
    FUZZ_CHECK(reparsed.ok() && *reparsed == *from_hex);
  }
  return 0;
}
