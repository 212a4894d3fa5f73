// Fuzz target for ImageRef::Parse: no crash on any text, and a parsed
// reference's canonical form parses back to the same reference (so
// normalisation is idempotent and ToString never emits something Parse
// rejects).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/image_ref.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<shapin::ImageRef> ref = shapin::ImageRef::Parse(text);
  if (!ref.ok()) return 0;
  const std::string canonical = ref->ToString();
  absl::StatusOr<shapin::ImageRef> reparsed =
      shapin::ImageRef::Parse(canonical);
  FUZZ_CHECK(reparsed.ok());
  FUZZ_CHECK(*reparsed == *ref);
  FUZZ_CHECK(reparsed->ToString() == canonical);
  FUZZ_CHECK(!ref->registry().empty() && !ref->repository().empty());

  const shapin::ImageRef bare = ref->repository_only();
  FUZZ_CHECK(!bare.tag().has_value() && !bare.digest().has_value());
  absl::StatusOr<shapin::ImageRef> bare_reparsed =
      shapin::ImageRef::Parse(bare.ToString());
  FUZZ_CHECK(bare_reparsed.ok() && *bare_reparsed == bare);
  if (ref->tag().has_value()) {
    absl::StatusOr<shapin::ImageRef> retagged = bare.with_tag(*ref->tag());
    FUZZ_CHECK(retagged.ok());
    FUZZ_CHECK(retagged->tag() == ref->tag());
  }
  return 0;
}
