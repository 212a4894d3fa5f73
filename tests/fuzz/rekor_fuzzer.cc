// Fuzz target for the Rekor evidence parsers: cosign's bundle annotation
// (ParseCosignBundle, then ParseRekorEntryBody on its body) and the log
// entry body itself (the input as the JSON body, base64-encoded here so the
// fuzzer mutates the JSON rather than its base64 text).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/signature/crypto.h"
#include "common/signature/rekor.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<shapin::signature::RekorEntryBody> body =
      shapin::signature::ParseRekorEntryBody(
          shapin::signature::Base64Encode(text));
  if (body.ok()) {
    FUZZ_CHECK(!body->kind.empty());
    FUZZ_CHECK(body->artifact_sha256_hex.size() == 64);
  }
  absl::StatusOr<shapin::signature::TlogEntry> entry =
      shapin::signature::ParseCosignBundle(text);
  if (!entry.ok()) return 0;
  FUZZ_CHECK(entry->integrated_time >= 0 && entry->log_index >= 0);
  FUZZ_CHECK(!shapin::signature::SignedEntryTimestampPayload(*entry).empty());
  (void)shapin::signature::ParseRekorEntryBody(entry->body_base64);
  return 0;
}
