#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/git_sha.h"
#include "common/signature/crypto.h"
#include "common/signature/dsse.h"
#include "common/signature/in_toto.h"
#include "common/signature/strict_json.h"
#include "common/signature/test_fixtures.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::signature {
namespace {

using ::shapin::signature::testing::StatusIs;
using ::testing::HasSubstr;

const Digest kImage = Digest::OfBytes("image manifest");
constexpr absl::string_view kCommit =
    "0123456789abcdef0123456789abcdef01234567";

TEST(DsseTest, PreAuthEncodingMatchesTheSpec) {
  // The example from the DSSE protocol document.
  EXPECT_EQ(PreAuthEncoding("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(PreAuthEncoding("", ""), "DSSEv1 0  0 ");
  EXPECT_EQ(PreAuthEncoding("t", std::string("a\0b", 3)),
            std::string("DSSEv1 1 t 3 a\0b", 16));
}

TEST(DsseTest, SerializeParseRoundTrip) {
  DsseEnvelope env;
  env.payload_type = std::string(kInTotoPayloadType);
  env.payload = "{\"x\":1}";
  env.signatures.push_back({"key-1", "\x30\x01\x02"});
  std::string json = SerializeDsseEnvelope(env);
  EXPECT_EQ(json,
            "{\"payloadType\":\"application/vnd.in-toto+json\",\"payload\":"
            "\"eyJ4IjoxfQ==\",\"signatures\":[{\"keyid\":\"key-1\",\"sig\":"
            "\"MAEC\"}]}");
  absl::StatusOr<DsseEnvelope> parsed = ParseDsseEnvelope(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->payload_type, env.payload_type);
  EXPECT_EQ(parsed->payload, env.payload);
  ASSERT_EQ(parsed->signatures.size(), 1u);
  EXPECT_EQ(parsed->signatures[0].keyid, "key-1");
  EXPECT_EQ(parsed->signatures[0].sig, env.signatures[0].sig);
}

TEST(DsseTest, AcceptsUrlSafeUnpaddedBase64) {
  absl::StatusOr<DsseEnvelope> env = ParseDsseEnvelope(
      R"({"payloadType":"t","payload":"eyJ4IjoxfQ","signatures":[{"sig":"-_8"}]})");
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->payload, "{\"x\":1}");
  EXPECT_EQ(env->signatures[0].sig, "\xfb\xff");
}

std::string StatementJson(absl::string_view type,
                          absl::string_view predicate_type,
                          const nlohmann::json& predicate,
                          absl::string_view subject_hex) {
  nlohmann::json doc = {
      {"_type", std::string(type)},
      {"subject", nlohmann::json::array(
                      {{{"name", "ghcr.io/mconstant/pay2slay-api"},
                        {"digest", {{"sha256", std::string(subject_hex)}}}}})},
      {"predicateType", std::string(predicate_type)},
      {"predicate", predicate}};
  return doc.dump();
}

TEST(InTotoStatementTest, ParsesV01AndV1) {
  for (absl::string_view type : {kStatementV01, kStatementV1}) {
    SCOPED_TRACE(type);
    absl::StatusOr<Statement> st = ParseStatement(StatementJson(
        type, "https://example.com/p", nlohmann::json::object(), kImage.hex()));
    ASSERT_TRUE(st.ok()) << st.status();
    EXPECT_EQ(st->type, type);
    EXPECT_TRUE(CoversDigest(*st, kImage));
    EXPECT_FALSE(CoversDigest(*st, Digest::OfBytes("other")));
    EXPECT_FALSE(IsSlsaProvenance(st->predicate_type));
  }
  EXPECT_THAT(
      ParseStatement(StatementJson("https://in-toto.io/Statement/v2", "p",
                                   nlohmann::json::object(), kImage.hex())),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("unsupported _type")));
}

TEST(InTotoStatementTest, SubjectDigestIsComparedCaseInsensitively) {
  std::string upper(kImage.hex());
  for (char& c : upper) c = static_cast<char>(toupper(c));
  Statement st = *ParseStatement(
      StatementJson(kStatementV1, "p", nlohmann::json::object(), upper));
  EXPECT_TRUE(CoversDigest(st, kImage));
}

TEST(SlsaProvenanceTest, SlsaV02ConfigSourceAndMaterials) {
  nlohmann::json with_config_source = {
      {"builder",
       {{"id",
         "https://github.com/slsa-framework/slsa-github-generator/.github/"
         "workflows/generator_container_slsa3.yml@refs/tags/v1.9.0"}}},
      {"buildType",
       "https://github.com/slsa-framework/slsa-github-generator/container@v1"},
      {"invocation",
       {{"configSource",
         {{"uri", "git+https://github.com/mconstant/pay2slay@refs/heads/main"},
          {"digest", {{"sha1", std::string(kCommit)}}},
          {"entryPoint", ".github/workflows/build.yml"}}}}},
      {"materials", nlohmann::json::array(
                        {{{"uri", "git+https://github.com/other/repo"},
                          {"digest", {{"sha1", std::string(40, 'f')}}}}})}};
  Statement st = *ParseStatement(StatementJson(
      kStatementV01, kSlsaProvenanceV02, with_config_source, kImage.hex()));
  absl::StatusOr<ProvenanceFacts> f = ExtractProvenance(st);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->builder_id, HasSubstr("generator_container_slsa3"));
  EXPECT_EQ(f->source_commit, std::string(kCommit));
  EXPECT_EQ(f->source_uri,
            "git+https://github.com/mconstant/pay2slay@refs/heads/main");

  nlohmann::json materials_only = {
      {"builder", {{"id", "b"}}},
      {"materials",
       nlohmann::json::array(
           {{{"uri", "docker.io/library/alpine"},
             {"digest", {{"sha256", std::string(64, 'a')}}}},
            {{"uri", "git+https://x"}, {"digest", {{"sha1", "ABCDEF"}}}}})}};
  f = ExtractProvenance(*ParseStatement(StatementJson(
      kStatementV01, kSlsaProvenanceV02, materials_only, kImage.hex())));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->source_commit, "abcdef");  // lower-cased
  EXPECT_EQ(f->source_uri, "git+https://x");

  f = ExtractProvenance(*ParseStatement(
      StatementJson(kStatementV01, kSlsaProvenanceV02,
                    {{"builder", {{"id", "b"}}}}, kImage.hex())));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->source_commit, std::nullopt);

  EXPECT_THAT(
      ExtractProvenance(*ParseStatement(
          StatementJson(kStatementV01, kSlsaProvenanceV02,
                        nlohmann::json::object(), kImage.hex()))),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("builder.id")));
}

TEST(SlsaProvenanceTest, SlsaV1ResolvedDependencies) {
  nlohmann::json predicate = {
      {"buildDefinition",
       {{"buildType", "https://actions.github.io/buildtypes/workflow/v1"},
        {"externalParameters", nlohmann::json::object()},
        {"resolvedDependencies",
         nlohmann::json::array(
             {{{"uri",
                "git+https://github.com/mconstant/pay2slay@refs/heads/main"},
               {"digest", {{"gitCommit", std::string(kCommit)}}}}})}}},
      {"runDetails",
       {{"builder",
         {{"id", "https://github.com/actions/runner/github-hosted"}}}}}};
  Statement st = *ParseStatement(
      StatementJson(kStatementV1, kSlsaProvenanceV1, predicate, kImage.hex()));
  absl::StatusOr<ProvenanceFacts> f = ExtractProvenance(st);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->builder_id, "https://github.com/actions/runner/github-hosted");
  EXPECT_EQ(f->build_type, "https://actions.github.io/buildtypes/workflow/v1");
  EXPECT_EQ(f->source_commit, std::string(kCommit));

  EXPECT_THAT(
      ExtractProvenance(*ParseStatement(StatementJson(
          kStatementV1, kSlsaProvenanceV1,
          {{"runDetails", {{"builder", {{"id", "x"}}}}}}, kImage.hex()))),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("buildDefinition")));
  EXPECT_THAT(ExtractProvenance(*ParseStatement(
                  StatementJson(kStatementV1, "https://spdx.dev/Document",
                                nlohmann::json::object(), kImage.hex()))),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not SLSA provenance")));
}

TEST(SlsaProvenanceTest, BuiltSlsaV1StatementReadsBack) {
  BuildProvenance build{
      .subject_name = "ghcr.io/mconstant/pay2slay-api",
      .image_digest = kImage,
      .builder_id = "https://shapin.dev/build-svc@v1",
      .build_type = "https://shapin.dev/buildtypes/buildah/v1",
      .source_url = "https://github.com/mconstant/pay2slay",
      .branch = "main",
      .commit = *GitSha::Parse(kCommit),
      .dockerfile = "Dockerfile",
      .base_images = {{"docker.io/library/python:3.12-slim",
                       Digest::OfBytes("base")}},
      .invocation_id = "build-42",
      .started_on = absl::FromUnixSeconds(1700000000),
      .finished_on = absl::FromUnixSeconds(1700000090),
  };
  const std::string json = BuildSlsaV1Statement(build);
  absl::StatusOr<Statement> st = ParseStatement(json);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->type, kStatementV1);
  EXPECT_EQ(st->predicate_type, kSlsaProvenanceV1);
  EXPECT_TRUE(CoversDigest(*st, kImage));
  EXPECT_EQ(st->subjects[0].name, "ghcr.io/mconstant/pay2slay-api");
  ProvenanceFacts f = *ExtractProvenance(*st);
  EXPECT_EQ(f.builder_id, "https://shapin.dev/build-svc@v1");
  EXPECT_EQ(f.source_commit, std::string(kCommit));
  EXPECT_EQ(f.source_uri,
            "git+https://github.com/mconstant/pay2slay@refs/heads/main");
  const nlohmann::json& p = st->predicate;
  const nlohmann::json& ext = p["buildDefinition"]["externalParameters"];
  EXPECT_EQ(ext["source"]["url"], "https://github.com/mconstant/pay2slay");
  EXPECT_EQ(ext["source"]["branch"], "main");
  EXPECT_EQ(ext["source"]["sha"], std::string(kCommit));
  EXPECT_EQ(ext["dockerfile"], "Dockerfile");
  const nlohmann::json& deps = p["buildDefinition"]["resolvedDependencies"];
  ASSERT_EQ(deps.size(), 2u);
  EXPECT_EQ(deps[1]["uri"], "docker.io/library/python:3.12-slim");
  EXPECT_EQ(deps[1]["digest"]["sha256"],
            std::string(Digest::OfBytes("base").hex()));
  const nlohmann::json& meta = p["runDetails"]["metadata"];
  EXPECT_EQ(meta["invocationId"], "build-42");
  EXPECT_EQ(meta["startedOn"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(meta["finishedOn"], "2023-11-14T22:14:50Z");
}

}  // namespace
}  // namespace shapin::signature
