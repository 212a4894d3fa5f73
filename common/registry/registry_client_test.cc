// RegistryClient against a real docker-registry (distribution 2.8) over
// plain HTTP on loopback, plus tiny in-test servers for what a real registry
// will not do on demand (lie about digests, fail with 5xx).
#include "common/registry/registry_client.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"
#include "common/error_code.h"
#include "common/image_ref.h"
#include "common/registry/manifest.h"
#include "common/registry/testing/fake_clock.h"
#include "common/registry/testing/oci_layout_builder.h"
#include "common/registry/testing/registry_server.h"
#include "common/registry/testing/status_matchers.h"
#include "common/registry/testing/tiny_http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace shapin::registry {
namespace {

using ::shapin::registry::testing::FakeClock;
using ::shapin::registry::testing::ForwardRequest;
using ::shapin::registry::testing::IsOk;
using ::shapin::registry::testing::IsOkAndHolds;
using ::shapin::registry::testing::OciLayoutBuilder;
using ::shapin::registry::testing::RegistryServer;
using ::shapin::registry::testing::StatusIs;
using ::shapin::registry::testing::TempDir;
using ::shapin::registry::testing::TinyHttpRequest;
using ::shapin::registry::testing::TinyHttpResponse;
using ::shapin::registry::testing::TinyHttpServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

ImageRef Ref(absl::string_view text) {
  absl::StatusOr<ImageRef> r = ImageRef::Parse(text);
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

// A small image: two random layers and a config, in an OCI layout.
struct SmallImage {
  std::unique_ptr<TempDir> dir;
  Digest manifest;
  std::vector<Descriptor> layers;
};

SmallImage MakeSmallImage(uint64_t seed, uint64_t layer_size = 100 << 10) {
  auto dir = std::make_unique<TempDir>(*TempDir::Create("shapin-layout"));
  auto b = OciLayoutBuilder::Create(dir->path());
  EXPECT_TRUE(b.ok()) << b.status();
  std::vector<Descriptor> layers;
  for (uint64_t i = 0; i < 2; ++i) {
    auto l = b->AddRandomBlob(layer_size + i, seed * 10 + i);
    EXPECT_TRUE(l.ok()) << l.status();
    layers.push_back(*l);
  }
  auto m = b->AddImage(layers);
  EXPECT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(b->WriteIndex({*m}), IsOk());
  return SmallImage{std::move(dir), m->digest, layers};
}

// Serves a tag list page by page from the full list upstream: ?n= limits
// the page, ?last= starts after a tag, and a Link header names the next page.
TinyHttpResponse PaginateTags(const TinyHttpRequest& req, int upstream) {
  TinyHttpRequest full = req;
  full.target = req.path();
  absl::StatusOr<TinyHttpResponse> r = ForwardRequest(full, upstream);
  if (!r.ok() || r->status != 200) {
    return r.ok() ? *r : TinyHttpResponse{502, {}, ""};
  }
  nlohmann::json j = nlohmann::json::parse(r->body);
  std::vector<std::string> all = j["tags"].get<std::vector<std::string>>();
  std::sort(all.begin(), all.end());
  std::vector<std::string> n = req.QueryValues("n");
  std::vector<std::string> last = req.QueryValues("last");
  size_t page = n.empty() ? all.size() : std::stoul(n[0]);
  auto start = last.empty() ? all.begin()
                            : std::upper_bound(all.begin(), all.end(), last[0]);
  std::vector<std::string> out;
  for (auto it = start; it != all.end() && out.size() < page; ++it) {
    out.push_back(*it);
  }
  TinyHttpResponse resp;
  resp.headers.emplace_back("Content-Type", "application/json");
  if (!out.empty() && out.back() != all.back()) {
    resp.headers.emplace_back(
        "Link", absl::StrCat("<", req.path(), "?n=", page, "&last=", out.back(),
                             ">; rel=\"next\""));
  }
  resp.body = nlohmann::json{{"name", j["name"]}, {"tags", out}}.dump();
  return resp;
}

class RegistryClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = RegistryServer::Start();
    ASSERT_TRUE(r.ok()) << r.status();
    registry_ = r->release();
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(registry_, nullptr);
    if (!registry_->running()) {
      ASSERT_THAT(registry_->Restart(), IsOk());
    }
    client_ = MakeClient({});
  }

  std::unique_ptr<RegistryClient> MakeClient(RegistryClientOptions options) {
    if (options.clock == nullptr) options.clock = &clock_;
    auto c = RegistryClient::Create(std::move(options));
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }

  ImageRef RepoRef(absl::string_view repo, absl::string_view host = "") {
    return Ref(
        absl::StrCat(host.empty() ? registry_->host() : host, "/", repo));
  }

  static RegistryServer* registry_;
  FakeClock clock_;
  std::unique_ptr<RegistryClient> client_;
};

RegistryServer* RegistryClientTest::registry_ = nullptr;

TEST_F(RegistryClientTest, PingSucceeds) {
  EXPECT_THAT(client_->Ping(registry_->host()), IsOk());
}

TEST_F(RegistryClientTest, PushThenResolveExistsAndReadBack) {
  SmallImage img = MakeSmallImage(1);
  ImageRef repo = RepoRef("push/basic");
  absl::StatusOr<PushResult> pushed =
      client_->PushOciLayout(img.dir->path(), repo, {"v1", "latest"});
  ASSERT_THAT(pushed, IsOk());
  EXPECT_EQ(pushed->digest, img.manifest);
  EXPECT_EQ(pushed->media_type, kOciManifestType);
  EXPECT_EQ(pushed->blobs_uploaded, 3);  // config + 2 layers
  EXPECT_EQ(pushed->blobs_skipped, 0);

  for (const char* tag : {"v1", "latest"}) {
    SCOPED_TRACE(tag);
    absl::StatusOr<Digest> d = client_->Resolve(*repo.with_tag(tag));
    ASSERT_THAT(d, IsOk());
    EXPECT_EQ(*d, img.manifest);
    EXPECT_THAT(client_->Exists(*repo.with_tag(tag)), IsOkAndHolds(true));
  }
  EXPECT_THAT(client_->Resolve(repo.with_digest(img.manifest)),
              IsOkAndHolds(img.manifest));

  absl::StatusOr<Manifest> m =
      client_->GetManifest(repo.with_digest(img.manifest));
  ASSERT_THAT(m, IsOk());
  EXPECT_EQ(m->digest, img.manifest);
  EXPECT_EQ(Digest::OfBytes(m->bytes), img.manifest);

  absl::StatusOr<ManifestHead> head =
      client_->HeadManifest(*repo.with_tag("v1"));
  ASSERT_THAT(head, IsOk());
  EXPECT_EQ(head->digest, img.manifest);
  EXPECT_EQ(head->media_type, kOciManifestType);

  // Blobs read back byte-identical (verified while streaming).
  for (const Descriptor& layer : img.layers) {
    EXPECT_THAT(client_->BlobExists(repo, layer.digest), IsOkAndHolds(true));
    std::filesystem::path out = img.dir->path() / "fetched";
    ASSERT_THAT(client_->FetchBlob(repo, layer.digest, layer.size, out),
                IsOk());
    EXPECT_EQ(std::filesystem::file_size(out),
              static_cast<uintmax_t>(layer.size));
  }
}

TEST_F(RegistryClientTest, SecondPushSkipsExistingBlobs) {
  SmallImage img = MakeSmallImage(2);
  ImageRef repo = RepoRef("push/again");
  ASSERT_THAT(client_->PushOciLayout(img.dir->path(), repo, {"a"}), IsOk());
  absl::StatusOr<PushResult> again =
      client_->PushOciLayout(img.dir->path(), repo, {"b"});
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->blobs_uploaded, 0);
  EXPECT_EQ(again->blobs_skipped, 3);
  EXPECT_EQ(again->digest, img.manifest);
}

TEST_F(RegistryClientTest, MountsBlobsFromAnotherRepository) {
  SmallImage img = MakeSmallImage(3);
  ASSERT_THAT(
      client_->PushOciLayout(img.dir->path(), RepoRef("mount/base"), {"v1"}),
      IsOk());
  PushOptions opts;
  opts.mount_from = {"mount/base"};
  absl::StatusOr<PushResult> pushed = client_->PushOciLayout(
      img.dir->path(), RepoRef("mount/app"), {"v1"}, opts);
  ASSERT_THAT(pushed, IsOk());
  EXPECT_EQ(pushed->blobs_mounted, 3);
  EXPECT_EQ(pushed->blobs_uploaded, 0);
}

TEST_F(RegistryClientTest, MissingTagIsADistinctNotFound) {
  SmallImage img = MakeSmallImage(4);
  ImageRef repo = RepoRef("missing/tag");
  ASSERT_THAT(client_->PushOciLayout(img.dir->path(), repo, {"present"}),
              IsOk());

  absl::StatusOr<Digest> missing = client_->Resolve(*repo.with_tag("absent"));
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound,
                                HasSubstr("missing/tag:absent")));
  EXPECT_EQ(ErrorCodeOf(missing.status()), ErrorCode::kMissingTag);
  EXPECT_THAT(missing.status().message(), HasSubstr(registry_->host()));
  EXPECT_THAT(missing.status().message(), HasSubstr("HTTP 404"));
  EXPECT_THAT(client_->Exists(*repo.with_tag("absent")), IsOkAndHolds(false));
  EXPECT_THAT(client_->GetManifest(*repo.with_tag("absent")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("MISSING_TAG")));

  // A repository that does not exist: still NOT_FOUND.
  EXPECT_THAT(client_->Resolve(*RepoRef("no/such/repo").with_tag("v1")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no/such/repo")));

  // Missing by digest: NOT_FOUND, but not a missing tag.
  Digest unknown = Digest::OfBytes("nothing here");
  absl::StatusOr<Manifest> by_digest =
      client_->GetManifest(repo.with_digest(unknown));
  EXPECT_THAT(by_digest,
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(unknown.str())));
  EXPECT_NE(ErrorCodeOf(by_digest.status()), ErrorCode::kMissingTag);
  EXPECT_THAT(client_->BlobExists(repo, unknown), IsOkAndHolds(false));
}

TEST_F(RegistryClientTest, ListTagsFollowsLinkPagination) {
  SmallImage img = MakeSmallImage(5);
  // distribution 2.8 ignores ?n= on tag lists, so a proxy in front of it
  // paginates the way the distribution spec describes (n, last, Link).
  std::atomic<int> tag_pages{0};
  int upstream = registry_->port();
  auto proxy = TinyHttpServer::Start([&](const TinyHttpRequest& req) {
    if (!absl::EndsWith(req.path(), "/tags/list")) {
      absl::StatusOr<TinyHttpResponse> r = ForwardRequest(req, upstream);
      if (!r.ok())
        return TinyHttpResponse{502, {}, std::string(r.status().message())};
      return *r;
    }
    ++tag_pages;
    return PaginateTags(req, upstream);
  });
  ASSERT_THAT(proxy, IsOk());
  ImageRef repo = RepoRef("tags/paged", (*proxy)->host());
  ASSERT_THAT(client_->PushOciLayout(img.dir->path(), repo,
                                     {"t1", "t2", "t3", "t4", "t5"}),
              IsOk());
  absl::StatusOr<std::vector<std::string>> tags = client_->ListTags(repo, 2);
  ASSERT_THAT(tags, IsOk());
  EXPECT_THAT(*tags, UnorderedElementsAre("t1", "t2", "t3", "t4", "t5"));
  EXPECT_GE(tag_pages.load(), 3);

  absl::StatusOr<std::vector<std::string>> all = client_->ListTags(repo);
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->size(), 5u);

  EXPECT_THAT(client_->ListTags(RepoRef("tags/none")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("tags/none")));
}

TEST_F(RegistryClientTest, LargeBlobsAreUploadedInChunks) {
  RegistryClientOptions o;
  o.chunk_size_bytes = 1 << 20;  // 1 MiB chunks
  std::unique_ptr<RegistryClient> client = MakeClient(o);
  SmallImage img = MakeSmallImage(6, (3 << 20) + 12345);  // > 3 chunks
  std::atomic<int> patches{0};
  int upstream = registry_->port();
  auto proxy = TinyHttpServer::Start([&](const TinyHttpRequest& req) {
    if (req.method == "PATCH") ++patches;
    absl::StatusOr<TinyHttpResponse> r = ForwardRequest(req, upstream);
    if (!r.ok())
      return TinyHttpResponse{502, {}, std::string(r.status().message())};
    return *r;
  });
  ASSERT_THAT(proxy, IsOk());
  ImageRef repo = RepoRef("chunked/app", (*proxy)->host());
  absl::StatusOr<PushResult> pushed =
      client->PushOciLayout(img.dir->path(), repo, {"v1"});
  ASSERT_THAT(pushed, IsOk());
  EXPECT_EQ(patches.load(), 8);  // 2 layers × 4 chunks
  for (const Descriptor& layer : img.layers) {
    std::filesystem::path out = img.dir->path() / "fetched";
    EXPECT_THAT(client->FetchBlob(repo, layer.digest, layer.size, out), IsOk());
  }
}

// A registry that keeps an upload across a broken connection (as the OCI
// distribution spec describes: GET on the upload URL answers with
// `Range: 0-<last>`, a PATCH must start where the stored bytes end, else
// 416). The second PATCH is cut: a third of it is stored, then the
// connection drops. The client must ask for the offset and send only the
// rest — never the stored part again.
TEST_F(RegistryClientTest, CutChunkResumesFromTheOffsetTheRegistryReports) {
  constexpr uint64_t kChunk = 1 << 20;
  absl::StatusOr<TempDir> dir = TempDir::Create("shapin-resume");
  ASSERT_THAT(dir, IsOk());
  auto b = OciLayoutBuilder::Create(dir->path());
  ASSERT_THAT(b, IsOk());
  absl::StatusOr<Descriptor> blob = b->AddRandomBlob(3 * kChunk + 777, 16);
  ASSERT_THAT(blob, IsOk());

  absl::Mutex mu;
  std::string stored;
  bool committed = false, cut = false;
  uint64_t patch_bytes = 0;
  std::vector<std::string> ranges;
  auto held = [&] {
    return absl::StrCat("0-", stored.empty() ? 0 : stored.size() - 1);
  };
  auto fake = TinyHttpServer::Start([&](const TinyHttpRequest& req) {
    absl::MutexLock lock(&mu);
    TinyHttpResponse r;
    const std::string upload = "/v2/resume/app/blobs/uploads/u1";
    if (req.path() == "/v2/") return r;
    if (req.method == "HEAD") {
      r.status = committed ? 200 : 404;
      return r;
    }
    if (req.method == "POST") {
      r.status = 202;
      r.headers = {{"Location", upload}};
      return r;
    }
    if (req.path() != upload) {
      r.status = 404;
      return r;
    }
    r.headers = {{"Location", upload}};
    if (req.method == "GET") {
      r.status = 204;
      r.headers.emplace_back("Range", held());
      return r;
    }
    if (req.method == "PATCH") {
      const std::string range = req.Header("Content-Range");
      ranges.push_back(range);
      patch_bytes += req.body.size();
      if (!absl::StartsWith(range, absl::StrCat(stored.size(), "-"))) {
        r.status = 416;
        r.headers.emplace_back("Range", held());
        return r;
      }
      if (!cut && !stored.empty()) {
        cut = true;
        stored += req.body.substr(0, req.body.size() / 3);
        r.status = 0;  // hang up mid-transfer
        return r;
      }
      stored += req.body;
      r.status = 202;
      r.headers.emplace_back("Range", held());
      return r;
    }
    if (req.method == "PUT") {
      stored += req.body;
      std::vector<std::string> digest = req.QueryValues("digest");
      if (digest.empty() || Digest::OfBytes(stored).str() != digest[0]) {
        r.status = 400;
        r.body = R"({"errors":[{"code":"DIGEST_INVALID","message":"x"}]})";
        return r;
      }
      committed = true;
      r.status = 201;
      r.headers.emplace_back("Docker-Content-Digest", digest[0]);
      return r;
    }
    r.status = 405;
    return r;
  });
  ASSERT_THAT(fake, IsOk());
  RegistryClientOptions o;
  o.chunk_size_bytes = kChunk;
  std::unique_ptr<RegistryClient> client = MakeClient(o);
  EXPECT_THAT(client->PushBlob(RepoRef("resume/app", (*fake)->host()), *blob,
                               dir->path() / "blobs" / "sha256" /
                                   std::string(blob->digest.hex())),
              IsOkAndHolds(RegistryClient::BlobOutcome::kUploaded));

  absl::MutexLock lock(&mu);
  EXPECT_TRUE(committed);
  EXPECT_EQ(Digest::OfBytes(stored), blob->digest);
  const uint64_t resumed_at = kChunk + kChunk / 3;
  EXPECT_THAT(ranges,
              ElementsAre(absl::StrCat("0-", kChunk - 1),
                          absl::StrCat(kChunk, "-", 2 * kChunk - 1),
                          absl::StrCat(resumed_at, "-", 2 * kChunk - 1),
                          absl::StrCat(2 * kChunk, "-", 3 * kChunk - 1),
                          absl::StrCat(3 * kChunk, "-", 3 * kChunk + 776)));
  // Only the part of the cut chunk that was not stored went out twice.
  EXPECT_EQ(patch_bytes, blob->size + (2 * kChunk - resumed_at));
}

TEST_F(RegistryClientTest, PushesAnIndexChildrenFirst) {
  TempDir dir = *TempDir::Create("shapin-layout");
  OciLayoutBuilder b = *OciLayoutBuilder::Create(dir.path());
  Descriptor l1 = *b.AddRandomBlob(1000, 71);
  Descriptor l2 = *b.AddRandomBlob(2000, 72);
  Descriptor m1 = *b.AddImage({l1});
  Descriptor m2 = *b.AddImage({l2});
  Descriptor index = *b.AddIndex({m1, m2});
  ASSERT_THAT(b.WriteIndex({index}), IsOk());
  ImageRef repo = RepoRef("index/app");
  absl::StatusOr<PushResult> pushed =
      client_->PushOciLayout(dir.path(), repo, {"multi"});
  ASSERT_THAT(pushed, IsOk());
  EXPECT_EQ(pushed->digest, index.digest);
  EXPECT_EQ(pushed->media_type, kOciIndexType);
  absl::StatusOr<Manifest> got = client_->GetManifest(*repo.with_tag("multi"));
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->media_type, kOciIndexType);
  EXPECT_EQ(got->digest, index.digest);
  EXPECT_THAT(client_->Exists(repo.with_digest(m1.digest)), IsOkAndHolds(true));
  EXPECT_THAT(client_->Exists(repo.with_digest(m2.digest)), IsOkAndHolds(true));
}

TEST_F(RegistryClientTest, CopyWithinARegistryMountsAndKeepsTheDigest) {
  SmallImage img = MakeSmallImage(8);
  ImageRef src = *RepoRef("copy/src").with_tag("v1");
  ASSERT_THAT(
      client_->PushOciLayout(img.dir->path(), src.repository_only(), {"v1"}),
      IsOk());
  ImageRef dst = *RepoRef("copy/dst").with_tag("promoted");
  absl::StatusOr<Digest> copied = client_->Copy(src, dst);
  ASSERT_THAT(copied, IsOk());
  EXPECT_EQ(*copied, img.manifest);
  EXPECT_THAT(client_->Resolve(dst), IsOkAndHolds(img.manifest));
  // Copying by digest to a repository without a tag also works.
  absl::StatusOr<Digest> by_digest = client_->Copy(
      src.repository_only().with_digest(img.manifest), RepoRef("copy/dst2"));
  EXPECT_THAT(by_digest, IsOkAndHolds(img.manifest));
  EXPECT_THAT(client_->Exists(RepoRef("copy/dst2").with_digest(img.manifest)),
              IsOkAndHolds(true));
}

TEST_F(RegistryClientTest, CopyBetweenRegistries) {
  auto other = RegistryServer::Start();
  ASSERT_THAT(other, IsOk());
  SmallImage img = MakeSmallImage(9);
  ImageRef src = *RepoRef("xcopy/src").with_tag("v1");
  ASSERT_THAT(
      client_->PushOciLayout(img.dir->path(), src.repository_only(), {"v1"}),
      IsOk());
  ImageRef dst = *RepoRef("xcopy/dst", (*other)->host()).with_tag("v1");
  absl::StatusOr<Digest> copied = client_->Copy(src, dst);
  ASSERT_THAT(copied, IsOk());
  EXPECT_EQ(*copied, img.manifest);
  EXPECT_THAT(client_->Resolve(dst), IsOkAndHolds(img.manifest));
  for (const Descriptor& layer : img.layers) {
    EXPECT_THAT(client_->BlobExists(dst.repository_only(), layer.digest),
                IsOkAndHolds(true));
  }
}

TEST_F(RegistryClientTest, ReferrersFallBackToTheDigestTagScheme) {
  SmallImage img = MakeSmallImage(10);
  ImageRef repo = RepoRef("referrers/app");
  ASSERT_THAT(client_->PushOciLayout(img.dir->path(), repo, {"v1"}), IsOk());
  absl::StatusOr<Manifest> subject =
      client_->GetManifest(repo.with_digest(img.manifest));
  ASSERT_THAT(subject, IsOk());

  // An attestation-like artifact whose subject is the image.
  TempDir dir = *TempDir::Create("shapin-layout");
  OciLayoutBuilder b = *OciLayoutBuilder::Create(dir.path());
  Descriptor payload =
      *b.AddBlob("signature-payload", "application/vnd.dev.shapin.test.sig");
  OciLayoutBuilder::ImageSpec spec;
  spec.layers = {payload};
  spec.config = "{}";
  spec.config_media_type = std::string(kOciEmptyType);
  spec.artifact_type = "application/vnd.dev.shapin.test.sig";
  spec.subject = Descriptor(std::string(kOciManifestType), img.manifest,
                            static_cast<int64_t>(subject->bytes.size()));
  Descriptor artifact = *b.AddImage(spec);
  ASSERT_THAT(b.WriteIndex({artifact}), IsOk());
  ASSERT_THAT(client_->PushOciLayout(dir.path(), repo, {}), IsOk());

  absl::StatusOr<std::vector<Descriptor>> refs =
      client_->ListReferrers(repo, img.manifest);
  ASSERT_THAT(refs, IsOk());
  ASSERT_EQ(refs->size(), 1u);
  EXPECT_EQ((*refs)[0].digest, artifact.digest);
  EXPECT_EQ((*refs)[0].artifact_type, "application/vnd.dev.shapin.test.sig");
  // The fallback tag exists, as other tools (cosign, oras) expect.
  EXPECT_THAT(client_->Exists(*repo.with_tag(img.manifest.tag_fallback())),
              IsOkAndHolds(true));

  EXPECT_THAT(client_->ListReferrers(repo, img.manifest, "application/other"),
              IsOkAndHolds(::testing::IsEmpty()));
  EXPECT_THAT(client_->ListReferrers(repo, Digest::OfBytes("no subject")),
              IsOkAndHolds(::testing::IsEmpty()));
}

TEST_F(RegistryClientTest, DeleteManifestOnlyByDigest) {
  SmallImage img = MakeSmallImage(11);
  ImageRef repo = RepoRef("delete/app");
  ASSERT_THAT(client_->PushOciLayout(img.dir->path(), repo, {"v1"}), IsOk());
  EXPECT_THAT(client_->DeleteManifest(*repo.with_tag("v1")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("only a reference by digest")));
  ASSERT_THAT(client_->DeleteManifest(repo.with_digest(img.manifest)), IsOk());
  EXPECT_THAT(client_->Exists(repo.with_digest(img.manifest)),
              IsOkAndHolds(false));
}

TEST_F(RegistryClientTest, ReadOnlyRefusesEveryWriteBeforeAnyRequest) {
  SmallImage img = MakeSmallImage(12);
  ImageRef repo = RepoRef("readonly/app");
  ASSERT_THAT(client_->PushOciLayout(img.dir->path(), repo, {"v1"}), IsOk());

  std::atomic<int> writes{0};
  int upstream = registry_->port();
  auto proxy = TinyHttpServer::Start([&](const TinyHttpRequest& req) {
    if (req.method != "GET" && req.method != "HEAD") ++writes;
    absl::StatusOr<TinyHttpResponse> r = ForwardRequest(req, upstream);
    if (!r.ok())
      return TinyHttpResponse{502, {}, std::string(r.status().message())};
    return *r;
  });
  ASSERT_THAT(proxy, IsOk());
  RegistryClientOptions o;
  o.read_only = true;
  std::unique_ptr<RegistryClient> ro = MakeClient(o);
  ImageRef via = RepoRef("readonly/app", (*proxy)->host());
  ImageRef other = RepoRef("readonly/other", (*proxy)->host());

  // Reads work.
  EXPECT_THAT(ro->Resolve(*via.with_tag("v1")), IsOkAndHolds(img.manifest));
  absl::StatusOr<Manifest> m = ro->GetManifest(via.with_digest(img.manifest));
  ASSERT_THAT(m, IsOk());

  auto denied = [](absl::string_view what) {
    return StatusIs(absl::StatusCode::kPermissionDenied,
                    ::testing::AllOf(HasSubstr("read-only"), HasSubstr(what)));
  };
  EXPECT_THAT(ro->PushOciLayout(img.dir->path(), other, {"v1"}),
              denied("push"));
  EXPECT_THAT(ro->Copy(*via.with_tag("v1"), *other.with_tag("v1")),
              denied("copy"));
  EXPECT_THAT(ro->PutManifest(other, "v1", m->media_type, m->bytes),
              denied("PUT manifest"));
  EXPECT_THAT(ro->PushBlob(other, img.layers[0],
                           img.dir->path() / "blobs" / "sha256" /
                               std::string(img.layers[0].digest.hex())),
              denied("upload"));
  EXPECT_THAT(ro->DeleteManifest(via.with_digest(img.manifest)),
              denied("DELETE"));
  EXPECT_EQ(writes.load(), 0);
  EXPECT_THAT(client_->Exists(via.with_digest(img.manifest)),
              IsOkAndHolds(true));
}

TEST_F(RegistryClientTest, RetriesServerErrorsThenSucceeds) {
  SmallImage img = MakeSmallImage(13);
  int upstream = registry_->port();
  std::atomic<int> manifest_gets{0};
  std::atomic<int> commits{0};
  auto proxy = TinyHttpServer::Start([&](const TinyHttpRequest& req) {
    TinyHttpResponse fail;
    if (req.method == "GET" && absl::StrContains(req.path(), "/manifests/")) {
      int n = ++manifest_gets;
      if (n == 1) {
        fail.status = 500;
        return fail;
      }
      if (n == 2) {
        fail.status = 503;
        fail.headers.emplace_back("Retry-After", "3");
        return fail;
      }
    }
    // The first blob commit (PUT …?digest=) fails once.
    if (req.method == "PUT" && absl::StrContains(req.target, "digest=") &&
        absl::StrContains(req.path(), "/blobs/uploads/") && ++commits == 1) {
      fail.status = 502;
      return fail;
    }
    absl::StatusOr<TinyHttpResponse> r = ForwardRequest(req, upstream);
    if (!r.ok())
      return TinyHttpResponse{502, {}, std::string(r.status().message())};
    return *r;
  });
  ASSERT_THAT(proxy, IsOk());
  ImageRef repo = RepoRef("retry/app", (*proxy)->host());
  ASSERT_THAT(client_->PushOciLayout(img.dir->path(), repo, {"v1"}), IsOk());
  // The push's own re-read got the 500 and the 503.
  std::vector<absl::Duration> sleeps = clock_.sleeps();
  ASSERT_GE(sleeps.size(), 3u);
  EXPECT_TRUE(std::any_of(sleeps.begin(), sleeps.end(), [](absl::Duration d) {
    return d >= absl::Seconds(3);
  })) << "Retry-After: 3 was not honoured";
  EXPECT_THAT(client_->Resolve(*repo.with_tag("v1")),
              IsOkAndHolds(img.manifest));
}

TEST_F(RegistryClientTest, GivesUpAfterBoundedRetries) {
  std::atomic<int> requests{0};
  auto proxy = TinyHttpServer::Start([&](const TinyHttpRequest& req) {
    TinyHttpResponse r;
    if (req.path() == "/v2/") return r;  // reachable over plain http
    ++requests;
    r.status = 503;
    r.body = R"({"errors":[{"code":"UNAVAILABLE","message":"try later"}]})";
    return r;
  });
  ASSERT_THAT(proxy, IsOk());
  RegistryClientOptions o;
  o.retry.max_attempts = 3;
  std::unique_ptr<RegistryClient> client = MakeClient(o);
  absl::StatusOr<Digest> d =
      client->Resolve(*RepoRef("down/app", (*proxy)->host()).with_tag("v1"));
  EXPECT_THAT(d, StatusIs(absl::StatusCode::kUnavailable,
                          ::testing::AllOf(HasSubstr("HTTP 503"),
                                           HasSubstr("down/app:v1"),
                                           HasSubstr((*proxy)->host()))));
  EXPECT_EQ(requests.load(), 3);
}

TEST_F(RegistryClientTest, ConnectionRefusedIsRetriedUntilTheRegistryIsBack) {
  SmallImage img = MakeSmallImage(14);
  ImageRef repo = RepoRef("restart/app");
  ASSERT_THAT(client_->PushOciLayout(img.dir->path(), repo, {"v1"}), IsOk());
  ASSERT_THAT(registry_->Stop(), IsOk());
  int sleeps = 0;
  clock_.set_on_sleep([&](absl::Duration) {
    if (++sleeps == 2) {
      ASSERT_THAT(registry_->Restart(), IsOk());
    }
  });
  EXPECT_THAT(client_->Resolve(*repo.with_tag("v1")),
              IsOkAndHolds(img.manifest));
  EXPECT_GE(sleeps, 2);
  clock_.set_on_sleep(nullptr);
}

TEST_F(RegistryClientTest, ErrorsRedactUploadLocationTokens) {
  // A registry whose upload location carries a secret and whose commit
  // fails: the error must name the step but not the secret.
  auto liar = TinyHttpServer::Start([&](const TinyHttpRequest& req) {
    TinyHttpResponse r;
    if (req.path() == "/v2/") return r;
    if (req.method == "HEAD") {
      r.status = 404;
      return r;
    }
    if (req.method == "POST") {
      r.status = 202;
      r.headers.emplace_back("Location",
                             "/v2/x/blobs/uploads/1?_state=SECRETSTATE123");
      return r;
    }
    r.status = 400;
    r.body = R"({"errors":[{"code":"DIGEST_INVALID","message":"nope"}]})";
    return r;
  });
  ASSERT_THAT(liar, IsOk());
  SmallImage img = MakeSmallImage(15);
  absl::StatusOr<PushResult> pushed = client_->PushOciLayout(
      img.dir->path(), RepoRef("x", (*liar)->host()), {});
  ASSERT_FALSE(pushed.ok());
  EXPECT_THAT(pushed.status().message(), HasSubstr("DIGEST_INVALID"));
  EXPECT_THAT(pushed.status().message(),
              ::testing::Not(HasSubstr("SECRETSTATE123")));
}

// --- a registry that lies ---------------------------------------------------

class LyingRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = TinyHttpServer::Start(
        [this](const TinyHttpRequest& req) { return Handle(req); });
    ASSERT_THAT(s, IsOk());
    server_ = std::move(*s);
    auto c = RegistryClient::Create(RegistryClientOptions{});
    ASSERT_THAT(c, IsOk());
    client_ = std::move(*c);
  }

  TinyHttpResponse Handle(const TinyHttpRequest& req) {
    TinyHttpResponse r;
    if (req.path() == "/v2/") return r;
    r.headers.emplace_back("Content-Type", std::string(kOciManifestType));
    if (absl::EndsWith(req.path(), "/manifests/tampered")) {
      // Bytes that hash to something else than the digest header claims.
      r.body = served_;
      r.headers.emplace_back("Docker-Content-Digest", claimed_.str());
      return r;
    }
    if (absl::EndsWith(req.path(), "/manifests/noheader")) {
      r.body = served_;
      return r;
    }
    if (absl::StrContains(req.path(), "/manifests/sha256:")) {
      r.body = served_;  // whatever digest was asked for
      return r;
    }
    if (absl::StrContains(req.path(), "/blobs/sha256:")) {
      r.headers.clear();
      r.body = "these are not the bytes you are looking for";
      return r;
    }
    r.status = 404;
    return r;
  }

  ImageRef At(absl::string_view path) {
    return Ref(absl::StrCat(server_->host(), "/", path));
  }

  std::string served_ =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]})";
  Digest claimed_ = Digest::OfBytes("the manifest the registry should serve");
  std::unique_ptr<TinyHttpServer> server_;
  std::unique_ptr<RegistryClient> client_;
};

TEST_F(LyingRegistryTest, ManifestNotMatchingDockerContentDigest) {
  absl::Status get =
      client_->GetManifest(*At("app").with_tag("tampered")).status();
  EXPECT_THAT(get, StatusIs(absl::StatusCode::kDataLoss,
                            ::testing::AllOf(HasSubstr("DIGEST_MISMATCH"),
                                             HasSubstr(claimed_.str()),
                                             HasSubstr("app:tampered"))));
  EXPECT_EQ(ErrorCodeOf(get), ErrorCode::kDigestMismatch);
  // Copy reads the source first: the lie stops it before anything is written.
  absl::Status copy =
      client_->Copy(*At("app").with_tag("tampered"), *At("dst").with_tag("v1"))
          .status();
  EXPECT_THAT(copy, StatusIs(absl::StatusCode::kDataLoss,
                             HasSubstr("DIGEST_MISMATCH")));
}

TEST_F(LyingRegistryTest, ManifestNotMatchingTheRequestedDigest) {
  Digest wanted = Digest::OfBytes("what we pinned");
  absl::StatusOr<Manifest> m =
      client_->GetManifest(At("app").with_digest(wanted));
  EXPECT_THAT(m, StatusIs(absl::StatusCode::kDataLoss,
                          ::testing::AllOf(HasSubstr("DIGEST_MISMATCH"),
                                           HasSubstr(wanted.str()))));
}

TEST_F(LyingRegistryTest, ResolveWithoutDigestHeaderHashesTheManifest) {
  // HEAD gives no Docker-Content-Digest: Resolve falls back to GET and
  // returns the digest of the bytes actually served.
  EXPECT_THAT(client_->Resolve(*At("app").with_tag("noheader")),
              IsOkAndHolds(Digest::OfBytes(served_)));
  EXPECT_THAT(client_->Resolve(*At("app").with_tag("tampered")),
              IsOkAndHolds(claimed_));  // HEAD only: header as told
}

TEST_F(LyingRegistryTest, BlobNotMatchingItsDigest) {
  TempDir dir = *TempDir::Create("shapin-blob");
  Digest wanted = Digest::OfBytes("the real layer");
  absl::Status s =
      client_->FetchBlob(At("app"), wanted, -1, dir.path() / "blob");
  EXPECT_THAT(
      s, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("DIGEST_MISMATCH")));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "blob"));
}

}  // namespace
}  // namespace shapin::registry
