#include "deploy-svc/sdl_renderer.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/registry/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::deploy {
namespace {

using ::shapin::registry::testing::IsOk;
using ::shapin::registry::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSha[] = "3f2a9c1d0e4b5a6978a1b2c3d4e5f60718293a4b";
constexpr char kDigest[] =
    "sha256:9c1d0e4b5a6978a1b2c3d4e5f60718293a4b3f2a9c1d0e4b5a6978a1b2c3d4e5";

constexpr char kTemplate[] = R"(---
# a comment that does not survive
version: "2.0"
services:
  api:
    image: ghcr.io/mconstant/pay2slay-api:placeholder
    env:
      - APP_ENV=production
      - GIT_SHA=unset
    expose:
      - port: 8000
        as: 80
        to:
          - global: true
profiles:
  compute:
    api:
      resources:
        cpu:
          units: 0.5
        memory:
          size: 512Mi
        storage:
          - size: 1Gi
  placement:
    akash:
      pricing:
        api:
          denom: uakt
          amount: 1000
deployment:
  api:
    akash:
      profile: api
      count: 1
)";

ImageRef Ref(const std::string& text) {
  absl::StatusOr<ImageRef> ref = ImageRef::Parse(text);
  EXPECT_TRUE(ref.ok()) << ref.status();
  return *ref;
}

ImageRef Pinned() {
  return Ref(
      absl::StrCat("ghcr.io/mconstant/pay2slay-api:", kSha, "@", kDigest));
}

std::vector<std::string> AllImages(const YAML::Node& sdl) {
  std::vector<std::string> images;
  for (const auto& service : sdl["services"]) {
    images.push_back(service.second["image"].as<std::string>());
  }
  return images;
}

std::vector<std::string> EnvOf(const YAML::Node& sdl,
                               const std::string& service) {
  std::vector<std::string> env;
  for (const auto& item : sdl["services"][service]["env"]) {
    env.push_back(item.as<std::string>());
  }
  return env;
}

TEST(RenderSdlTest, PinsTheServiceImageAndNoOtherImage) {
  absl::StatusOr<std::string> sdl = RenderSdl(
      {.template_yaml = kTemplate, .service = "api", .image = Pinned()});
  ASSERT_THAT(sdl, IsOk());
  const YAML::Node doc = YAML::Load(*sdl);
  EXPECT_THAT(AllImages(doc), ::testing::ElementsAre(Pinned().ToString()));
  EXPECT_THAT(*sdl, HasSubstr(kDigest));
  EXPECT_THAT(*sdl, Not(HasSubstr("placeholder")));
  // "2.0" must stay a string for the Console API's (JavaScript) parser.
  EXPECT_THAT(*sdl, HasSubstr("version: \"2.0\""));
  EXPECT_EQ(doc["deployment"]["api"]["akash"]["count"].as<int>(), 1);
  EXPECT_EQ(doc["profiles"]["compute"]["api"]["resources"]["memory"]["size"]
                .as<std::string>(),
            "512Mi");
  // Untouched env entries are kept.
  EXPECT_THAT(EnvOf(doc, "api"),
              ::testing::ElementsAre("APP_ENV=production", "GIT_SHA=unset"));
}

TEST(RenderSdlTest, ImageEnvReplacesEntriesOfTheSameName) {
  absl::StatusOr<std::string> sdl = RenderSdl({.template_yaml = kTemplate,
                                               .service = "api",
                                               .image = Pinned(),
                                               .env = ImageEnv(Pinned())});
  ASSERT_THAT(sdl, IsOk());
  EXPECT_THAT(EnvOf(YAML::Load(*sdl), "api"),
              ::testing::ElementsAre("APP_ENV=production",
                                     absl::StrCat("GIT_SHA=", kSha),
                                     absl::StrCat("IMAGE_DIGEST=", kDigest)));
}

TEST(RenderSdlTest, AddsEnvWhenTheTemplateHasNone) {
  std::string yaml = kTemplate;
  yaml.erase(yaml.find("    env:\n"),
             yaml.find("    expose:") - yaml.find("    env:\n"));
  absl::StatusOr<std::string> sdl = RenderSdl({.template_yaml = yaml,
                                               .service = "api",
                                               .image = Pinned(),
                                               .env = ImageEnv(Pinned())});
  ASSERT_THAT(sdl, IsOk());
  EXPECT_THAT(EnvOf(YAML::Load(*sdl), "api"),
              ::testing::ElementsAre(absl::StrCat("GIT_SHA=", kSha),
                                     absl::StrCat("IMAGE_DIGEST=", kDigest)));
}

TEST(RenderSdlTest, RefusesImagesThatAreNotPinned) {
  struct Case {
    std::string name;
    std::string image;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"floating tag refused",
       absl::StrCat("ghcr.io/mconstant/pay2slay-api:latest@", kDigest),
       "floating tags are refused"},
      {"branch tag refused",
       absl::StrCat("ghcr.io/mconstant/pay2slay-api:main@", kDigest),
       "not a 40-character commit SHA"},
      {"short sha refused",
       absl::StrCat("ghcr.io/mconstant/pay2slay-api:3f2a9c1d0e4b@", kDigest),
       "not a 40-character commit SHA"},
      {"no digest refused",
       absl::StrCat("ghcr.io/mconstant/pay2slay-api:", kSha), "no digest"},
      {"digest without tag refused",
       absl::StrCat("ghcr.io/mconstant/pay2slay-api@", kDigest), "no tag"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(
        RenderSdl({.template_yaml = kTemplate,
                   .service = "api",
                   .image = Ref(c.image)}),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
    EXPECT_THAT(
        RenderTfvars(Ref(c.image)),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(RenderSdlTest, RefusesTemplatesThatAreNotSdlV2) {
  struct Case {
    std::string name;
    std::string yaml;
    std::string service;
    std::string message;
  };
  std::string no_profiles = kTemplate;
  no_profiles.replace(no_profiles.find("profiles:"), 9, "profilez:");
  std::string version_1 = kTemplate;
  version_1.replace(version_1.find("\"2.0\""), 5, "\"1.0\"");
  std::string floating_sidecar = kTemplate;
  floating_sidecar.replace(floating_sidecar.find("services:\n"), 10,
                           "services:\n  db:\n    image: postgres:15\n");
  const std::vector<Case> cases = {
      {"unknown service", kTemplate, "web", "no service \"web\""},
      {"not yaml", "version: [unclosed", "api", "not valid YAML"},
      {"not a mapping", "- a\n- b\n", "api", "must be a mapping"},
      {"wrong version", version_1, "api", "expected \"2.0\""},
      {"missing version", "services: {api: {image: x}}\n", "api",
       "version must be a string"},
      {"missing profiles", no_profiles, "api", "profiles must be"},
      {"service without deployment",
       "version: \"2.0\"\nservices: {api: {image: x}}\n"
       "profiles: {compute: {}}\ndeployment: {web: {}}\n",
       "api", "no entry under deployment"},
      {"sidecar with floating tag", floating_sidecar, "api",
       "not pinned by digest"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(
        RenderSdl(
            {.template_yaml = c.yaml, .service = c.service, .image = Pinned()}),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(RenderSdlTest, SidecarPinnedByDigestIsKept) {
  std::string yaml = kTemplate;
  const std::string sidecar =
      absl::StrCat("docker.io/library/postgres:15@", kDigest);
  yaml.replace(yaml.find("services:\n"), 10,
               absl::StrCat("services:\n  db:\n    image: ", sidecar, "\n"));
  absl::StatusOr<std::string> sdl =
      RenderSdl({.template_yaml = yaml, .service = "api", .image = Pinned()});
  ASSERT_THAT(sdl, IsOk());
  EXPECT_THAT(AllImages(YAML::Load(*sdl)),
              ::testing::UnorderedElementsAre(sidecar, Pinned().ToString()));
}

TEST(RenderSdlTest, HostileValuesAreEscaped) {
  const std::vector<std::string> values = {"a: b",
                                           "x # not a comment",
                                           "line1\nline2: evil\n- item",
                                           "\"quoted\" 'x'",
                                           "{flow: map}",
                                           "&anchor *alias !tag",
                                           "",
                                           "true",
                                           "2.0",
                                           "trailing space ",
                                           "\ttab\x01ctl",
                                           "ünïcødé ✓"};
  for (const std::string& value : values) {
    SCOPED_TRACE(value);
    absl::StatusOr<std::string> sdl = RenderSdl({.template_yaml = kTemplate,
                                                 .service = "api",
                                                 .image = Pinned(),
                                                 .env = {{"HOSTILE", value}}});
    ASSERT_THAT(sdl, IsOk());
    const YAML::Node doc = YAML::Load(*sdl);
    EXPECT_THAT(EnvOf(doc, "api"),
                ::testing::Contains(absl::StrCat("HOSTILE=", value)));
    // Nothing leaked into the structure: still one service, same keys.
    EXPECT_EQ(doc["services"].size(), 1u);
    EXPECT_EQ(doc["services"]["api"].size(), 3u);
    EXPECT_EQ(doc["version"].as<std::string>(), "2.0");
  }
}

TEST(RenderSdlTest, RefusesBadEnvNames) {
  for (const std::string name : {"", "1X", "A-B", "A=B", "A B"}) {
    SCOPED_TRACE(name);
    EXPECT_THAT(
        RenderSdl({.template_yaml = kTemplate,
                   .service = "api",
                   .image = Pinned(),
                   .env = {{name, "v"}}}),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("env name")));
  }
}

TEST(RenderSdlTest, ShippedTemplateRenders) {
  std::ifstream in(std::string(SHAPIN_SOURCE_DIR) +
                   "/deploy/akash/pay2slay-api.sdl.yaml");
  ASSERT_TRUE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  const std::string yaml = text.str();
  absl::StatusOr<std::string> sdl = RenderSdl({.template_yaml = yaml,
                                               .service = "api",
                                               .image = Pinned(),
                                               .env = ImageEnv(Pinned())});
  ASSERT_THAT(sdl, IsOk());
  const YAML::Node doc = YAML::Load(*sdl);
  EXPECT_THAT(AllImages(doc), ::testing::ElementsAre(Pinned().ToString()));
  EXPECT_EQ(doc["services"]["api"]["expose"][0]["port"].as<int>(), 8000);
  EXPECT_EQ(doc["services"]["api"]["expose"][0]["as"].as<int>(), 80);
  EXPECT_EQ(doc["profiles"]["placement"]["akash"]["pricing"]["api"]["denom"]
                .as<std::string>(),
            "uakt");
  EXPECT_THAT(EnvOf(doc, "api"),
              ::testing::Contains(absl::StrCat("GIT_SHA=", kSha)));
  EXPECT_THAT(*sdl, Not(HasSubstr("placeholder")));
  EXPECT_THAT(*sdl, Not(HasSubstr("=unset")));
}

TEST(RenderTfvarsTest, WritesThePin) {
  absl::StatusOr<std::string> tfvars = RenderTfvars(Pinned());
  ASSERT_THAT(tfvars, IsOk());
  EXPECT_THAT(*tfvars, HasSubstr("image_repository = "
                                 "\"ghcr.io/mconstant/pay2slay-api\"\n"));
  EXPECT_THAT(*tfvars,
              HasSubstr(absl::StrCat("image_sha        = \"", kSha, "\"\n")));
  EXPECT_THAT(*tfvars, HasSubstr(absl::StrCat("image_digest     = \"", kDigest,
                                              "\"\n")));
  EXPECT_THAT(*tfvars, HasSubstr(absl::StrCat("image_ref        = \"",
                                              Pinned().ToString(), "\"\n")));
}

TEST(HclQuoteTest, EscapesLikeHcl) {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"plain", R"("plain")"},
      {"a\"b", R"("a\"b")"},
      {"back\\slash", R"("back\\slash")"},
      {"nl\ncr\rtab\t", R"("nl\ncr\rtab\t")"},
      {"${var.x}", R"("$${var.x}")"},
      {"%{ if x }", R"("%%{ if x }")"},
      {"$5 and 100%", R"("$5 and 100%")"},
      {std::string("nul\0x", 5), R"("nul\u0000x")"},
      {"\x7f", R"("\u007f")"},
      {"ünï", "\"ünï\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(HclQuote(c.in), c.out);
  }
}

}  // namespace
}  // namespace shapin::deploy
