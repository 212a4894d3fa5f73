// Fuzz target for ParseStatement (in-toto v0.1 / v1) and, for SLSA
// provenance statements, ExtractProvenance. A statement's own sha256
// subjects are covered by CoversDigest.
#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"
#include "common/signature/in_toto.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<shapin::signature::Statement> st =
      shapin::signature::ParseStatement(bytes);
  if (!st.ok()) return 0;
  FUZZ_CHECK(!st->subjects.empty());
  FUZZ_CHECK(st->predicate.is_object() || st->predicate.is_null());
  for (const shapin::signature::StatementSubject& s : st->subjects) {
    auto it = s.digest.find("sha256");
    if (it == s.digest.end()) continue;
    absl::StatusOr<shapin::Digest> d =
        shapin::Digest::FromSha256Hex(it->second);
    if (d.ok()) FUZZ_CHECK(shapin::signature::CoversDigest(*st, *d));
  }
  if (shapin::signature::IsSlsaProvenance(st->predicate_type)) {
    absl::StatusOr<shapin::signature::ProvenanceFacts> facts =
        shapin::signature::ExtractProvenance(*st);
    if (facts.ok()) FUZZ_CHECK(!facts->builder_id.empty());
  }
  return 0;
}
