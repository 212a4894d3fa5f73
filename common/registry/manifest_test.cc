#include "common/registry/manifest.h"

#include <string>

#include "absl/status/status.h"
#include "common/registry/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::registry {
namespace {

using ::shapin::registry::testing::IsOk;
using ::shapin::registry::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kDigestA[] =
    "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
constexpr char kDigestB[] =
    "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

TEST(ParseManifestTest, ImageManifestWithSubject) {
  std::string m = std::string(R"({"schemaVersion":2,
    "mediaType":"application/vnd.oci.image.manifest.v1+json",
    "artifactType":"application/vnd.example.sig",
    "config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":")") +
                  kDigestA + R"(","size":2},
    "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
                  kDigestB + R"(","size":10,"annotations":{"k":"v"}}],
    "subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                  kDigestA + R"(","size":7}})";
  absl::StatusOr<ManifestInfo> info = ParseManifest(m, "");
  ASSERT_THAT(info, IsOk());
  EXPECT_FALSE(info->is_index);
  EXPECT_EQ(info->artifact_type, "application/vnd.example.sig");
  ASSERT_TRUE(info->config.has_value());
  EXPECT_EQ(info->config->digest.str(), kDigestA);
  ASSERT_EQ(info->layers.size(), 1u);
  EXPECT_EQ(info->layers[0].size, 10);
  EXPECT_EQ(info->layers[0].annotations.at("k"), "v");
  ASSERT_TRUE(info->subject.has_value());
  EXPECT_EQ(info->subject->size, 7);
}

TEST(ParseManifestTest, IndexAndMediaTypeFromContentType) {
  std::string idx =
      std::string(
          R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":")") +
      kDigestA + R"(","size":5}]})";
  absl::StatusOr<ManifestInfo> info = ParseManifest(
      idx, "application/vnd.docker.distribution.manifest.list.v2+json");
  ASSERT_THAT(info, IsOk());
  EXPECT_TRUE(info->is_index);
  EXPECT_EQ(info->media_type, kDockerManifestListType);
  ASSERT_EQ(info->manifests.size(), 1u);
}

TEST(ParseManifestTest, RejectsMalformed) {
  struct Case {
    const char* doc;
    const char* error;
  } cases[] = {
      {"not json", "not a JSON object"},
      {R"({"mediaType":"application/vnd.docker.distribution.manifest.v1+json"})",
       "unsupported manifest media type"},
      {R"({"mediaType":"application/vnd.oci.image.manifest.v1+json"})",
       "no config"},
      {R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:xyz","size":1}})",
       "bad descriptor digest"},
      {R"({"mediaType":"application/vnd.oci.image.index.v1+json","manifests":{}})",
       "not an array"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.doc);
    EXPECT_THAT(
        ParseManifest(c.doc, ""),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error)));
  }
}

TEST(BuildIndexJsonTest, RoundTrips) {
  Descriptor d(std::string(kOciManifestType), *Digest::Parse(kDigestA), 42);
  d.artifact_type = "application/vnd.example.sig";
  std::string json = BuildIndexJson({d});
  absl::StatusOr<ManifestInfo> info = ParseManifest(json, "");
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->media_type, kOciIndexType);
  ASSERT_EQ(info->manifests.size(), 1u);
  EXPECT_EQ(info->manifests[0].artifact_type, "application/vnd.example.sig");
  EXPECT_EQ(info->manifests[0].size, 42);
}

}  // namespace
}  // namespace shapin::registry
