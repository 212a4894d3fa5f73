// Fuzz target for ParseDsseEnvelope (cosign attestations). An accepted
// envelope serialised the way cosign writes it parses back to the same
// payload type, payload and signatures; PAE of it never fails.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "common/signature/dsse.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view json(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<shapin::signature::DsseEnvelope> env =
      shapin::signature::ParseDsseEnvelope(json);
  if (!env.ok()) return 0;
  FUZZ_CHECK(!env->signatures.empty());
  const std::string pae =
      shapin::signature::PreAuthEncoding(env->payload_type, env->payload);
  FUZZ_CHECK(absl::StartsWith(pae, "DSSEv1 "));
  FUZZ_CHECK(absl::EndsWith(pae, env->payload));

  absl::StatusOr<shapin::signature::DsseEnvelope> again =
      shapin::signature::ParseDsseEnvelope(
          shapin::signature::SerializeDsseEnvelope(*env));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->payload_type == env->payload_type);
  FUZZ_CHECK(again->payload == env->payload);
  FUZZ_CHECK(again->signatures.size() == env->signatures.size());
  for (size_t i = 0; i < env->signatures.size(); ++i) {
    FUZZ_CHECK(again->signatures[i].keyid == env->signatures[i].keyid);
    FUZZ_CHECK(again->signatures[i].sig == env->signatures[i].sig);
  }
  return 0;
}
