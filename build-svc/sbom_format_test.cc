#include "build-svc/sbom_format.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::build {
namespace {

using ::testing::HasSubstr;

TEST(ParseSbomTest, PredicateTypeComesFromTheContent) {
  struct Case {
    const char* name;
    const char* text;
    absl::string_view predicate_type;
  };
  const Case cases[] = {
      {"spdx", R"({"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT"})",
       kSpdxPredicateType},
      {"cyclonedx", R"({"bomFormat":"CycloneDX","specVersion":"1.5"})",
       kCycloneDxPredicateType},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Sbom> sbom = ParseSbom(c.text);
    ASSERT_TRUE(sbom.ok()) << sbom.status();
    EXPECT_EQ(sbom->predicate_type, c.predicate_type);
    EXPECT_EQ(sbom->document, nlohmann::json::parse(c.text));
  }
}

TEST(ParseSbomTest, AnythingElseIsRefusedSayingWhy) {
  struct Case {
    const char* name;
    const char* text;
    const char* why;
  };
  const Case cases[] = {
      {"not json", "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0",
       "not a JSON object"},
      {"array", "[1,2]", "not a JSON object"},
      {"other json", R"({"name":"x"})", "neither SPDX"},
      {"spdx version not a string", R"({"spdxVersion":2.3})", "neither SPDX"},
      {"bomFormat of another tool", R"({"bomFormat":"Syft"})", "neither SPDX"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Sbom> sbom = ParseSbom(c.text);
    ASSERT_FALSE(sbom.ok());
    EXPECT_EQ(sbom.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(sbom.status().message(), HasSubstr(c.why));
  }
}

}  // namespace
}  // namespace shapin::build
