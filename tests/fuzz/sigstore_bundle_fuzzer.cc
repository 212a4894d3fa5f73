// Fuzz target for ParseSigstoreBundle (cosign v3 referrers): certificates,
// tlog entries, message signature or DSSE envelope. An accepted bundle holds
// exactly one kind of content.
#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/signature/sigstore_bundle.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view json(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<shapin::signature::SigstoreBundle> bundle =
      shapin::signature::ParseSigstoreBundle(json);
  if (!bundle.ok()) return 0;
  FUZZ_CHECK(bundle->message_signature.has_value() !=
             bundle->dsse_envelope.has_value());
  return 0;
}
