// SbomFormat: recognises an SBOM document and the in-toto predicate type it
// is attested under. Pure (the caller reads the file).
//
//   SHAPIN_ASSIGN_OR_RETURN(Sbom sbom, ParseSbom(file_text));
//   signer.Attest(repo, digest, sbom.predicate_type, sbom.document);
#ifndef SHAPIN_BUILD_SVC_SBOM_FORMAT_H_
#define SHAPIN_BUILD_SVC_SBOM_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace shapin::build {

inline constexpr absl::string_view kSpdxPredicateType =
    "https://spdx.dev/Document";
inline constexpr absl::string_view kCycloneDxPredicateType =
    "https://cyclonedx.org/bom";

struct Sbom {
  std::string predicate_type;  // kSpdxPredicateType or kCycloneDxPredicateType
  nlohmann::json document;     // the whole SBOM, the attestation's predicate
};

// SPDX JSON (a string "spdxVersion" starting "SPDX-") or CycloneDX JSON
// ("bomFormat": "CycloneDX"), decided by content, not file name.
// INVALID_ARGUMENT for anything else (not JSON, not an object, another
// format such as SPDX tag-value).
absl::StatusOr<Sbom> ParseSbom(absl::string_view text);

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_SBOM_FORMAT_H_
