#include "build-svc/sbom_format.h"

#include "absl/strings/match.h"

namespace shapin::build {

absl::StatusOr<Sbom> ParseSbom(absl::string_view text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError(
        "not a JSON object (SPDX or CycloneDX JSON expected)");
  }
  auto spdx = doc.find("spdxVersion");
  if (spdx != doc.end() && spdx->is_string() &&
      absl::StartsWith(spdx->get<std::string>(), "SPDX-")) {
    return Sbom{.predicate_type = std::string(kSpdxPredicateType),
                .document = std::move(doc)};
  }
  auto format = doc.find("bomFormat");
  if (format != doc.end() && format->is_string() &&
      format->get<std::string>() == "CycloneDX") {
    return Sbom{.predicate_type = std::string(kCycloneDxPredicateType),
                .document = std::move(doc)};
  }
  return absl::InvalidArgumentError(
      "JSON but neither SPDX (\"spdxVersion\") nor CycloneDX "
      "(\"bomFormat\": \"CycloneDX\")");
}

}  // namespace shapin::build
