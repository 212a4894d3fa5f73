// Fuzz target for ParseSimpleSigningPayload (cosign's signed payload). When
// the payload names a well-formed digest, the payload shapin would write for
// the same reference and digest parses back to the same fields.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"
#include "common/signature/simple_signing.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<shapin::signature::SimpleSigningPayload> payload =
      shapin::signature::ParseSimpleSigningPayload(bytes);
  if (!payload.ok()) return 0;
  absl::StatusOr<shapin::Digest> digest =
      shapin::Digest::Parse(payload->manifest_digest);
  if (!digest.ok()) return 0;
  const std::string rebuilt = shapin::signature::BuildSimpleSigningPayload(
      payload->docker_reference, *digest,
      {{"creator", payload->type}, {"ref", payload->docker_reference}});
  absl::StatusOr<shapin::signature::SimpleSigningPayload> again =
      shapin::signature::ParseSimpleSigningPayload(rebuilt);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->docker_reference == payload->docker_reference);
  FUZZ_CHECK(again->manifest_digest == payload->manifest_digest);
  FUZZ_CHECK(again->type == shapin::signature::kCosignSignatureType);
  return 0;
}
