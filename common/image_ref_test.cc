#include "common/image_ref.h"

#include "tests/support/status_matchers.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin {
namespace {

using ::testing::HasSubstr;

using ::shapin::testing::StatusIs;

constexpr absl::string_view kHex =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const std::string kDigest = absl::StrCat("sha256:", kHex);
constexpr absl::string_view kSha = "3f2a9c0b1d4e5f60718293a4b5c6d7e8f9012345";

TEST(ImageRefTest, ParsesValidReferences) {
  const struct {
    std::string text;
    std::string registry;
    std::string repository;
    std::optional<std::string> tag;
    std::optional<std::string> digest;
    std::string canonical;
  } cases[] = {
      // Docker normalisation.
      {"busybox", "docker.io", "library/busybox", std::nullopt, std::nullopt,
       "docker.io/library/busybox"},
      {"busybox:1.36", "docker.io", "library/busybox", "1.36", std::nullopt,
       "docker.io/library/busybox:1.36"},
      {"library/busybox", "docker.io", "library/busybox", std::nullopt,
       std::nullopt, "docker.io/library/busybox"},
      {"mconstant/app", "docker.io", "mconstant/app", std::nullopt,
       std::nullopt, "docker.io/mconstant/app"},
      {"docker.io/busybox", "docker.io", "library/busybox", std::nullopt,
       std::nullopt, "docker.io/library/busybox"},
      {"index.docker.io/busybox", "docker.io", "library/busybox", std::nullopt,
       std::nullopt, "docker.io/library/busybox"},
      {"index.docker.io/foo/bar:t", "docker.io", "foo/bar", "t", std::nullopt,
       "docker.io/foo/bar:t"},
      // Without a '/', "localhost" is a repository, and ":5000" a tag.
      {"localhost", "docker.io", "library/localhost", std::nullopt,
       std::nullopt, "docker.io/library/localhost"},
      {"localhost:5000", "docker.io", "library/localhost", "5000", std::nullopt,
       "docker.io/library/localhost:5000"},
      // Registries.
      {"ghcr.io/mconstant/pay2slay-api", "ghcr.io", "mconstant/pay2slay-api",
       std::nullopt, std::nullopt, "ghcr.io/mconstant/pay2slay-api"},
      {absl::StrCat("ghcr.io/mconstant/pay2slay-api:", kSha), "ghcr.io",
       "mconstant/pay2slay-api", std::string(kSha), std::nullopt,
       absl::StrCat("ghcr.io/mconstant/pay2slay-api:", kSha)},
      {"localhost/app", "localhost", "app", std::nullopt, std::nullopt,
       "localhost/app"},
      {absl::StrCat("localhost:5000/a/b:t@", kDigest), "localhost:5000", "a/b",
       "t", kDigest, absl::StrCat("localhost:5000/a/b:t@", kDigest)},
      {"127.0.0.1:5000/x", "127.0.0.1:5000", "x", std::nullopt, std::nullopt,
       "127.0.0.1:5000/x"},
      {"[::1]:5000/x", "[::1]:5000", "x", std::nullopt, std::nullopt,
       "[::1]:5000/x"},
      {"[::1]/x", "[::1]", "x", std::nullopt, std::nullopt, "[::1]/x"},
      {"[2001:DB8::1]:443/team/app:v1", "[2001:DB8::1]:443", "team/app", "v1",
       std::nullopt, "[2001:DB8::1]:443/team/app:v1"},
      // The port is not a tag.
      {"host:5000/name", "host:5000", "name", std::nullopt, std::nullopt,
       "host:5000/name"},
      {"host:5000/name:tag", "host:5000", "name", "tag", std::nullopt,
       "host:5000/name:tag"},
      {"sub-domain.example.com:443/a/b/c/d", "sub-domain.example.com:443",
       "a/b/c/d", std::nullopt, std::nullopt,
       "sub-domain.example.com:443/a/b/c/d"},
      // Host names are not case-restricted; repositories are.
      {"Registry.Example.COM/app", "Registry.Example.COM", "app", std::nullopt,
       std::nullopt, "Registry.Example.COM/app"},
      // Digests, with and without a tag.
      {absl::StrCat("name@", kDigest), "docker.io", "library/name",
       std::nullopt, kDigest, absl::StrCat("docker.io/library/name@", kDigest)},
      {absl::StrCat("name:tag@", kDigest), "docker.io", "library/name", "tag",
       kDigest, absl::StrCat("docker.io/library/name:tag@", kDigest)},
      // Every separator form.
      {"a.b/x__y/z---w/v.w_u/p-q", "a.b", "x__y/z---w/v.w_u/p-q", std::nullopt,
       std::nullopt, "a.b/x__y/z---w/v.w_u/p-q"},
      // Tag edge cases.
      {"app:_v", "docker.io", "library/app", "_v", std::nullopt,
       "docker.io/library/app:_v"},
      {"app:V1.2-rc_3", "docker.io", "library/app", "V1.2-rc_3", std::nullopt,
       "docker.io/library/app:V1.2-rc_3"},
      {absl::StrCat("app:", std::string(128, 't')), "docker.io", "library/app",
       std::string(128, 't'), std::nullopt,
       absl::StrCat("docker.io/library/app:", std::string(128, 't'))},
      // Exactly 255 characters of name.
      {absl::StrCat("ghcr.io/", std::string(247, 'a')), "ghcr.io",
       std::string(247, 'a'), std::nullopt, std::nullopt,
       absl::StrCat("ghcr.io/", std::string(247, 'a'))},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<ImageRef> ref = ImageRef::Parse(c.text);
    ASSERT_TRUE(ref.ok()) << ref.status();
    EXPECT_EQ(ref->registry(), c.registry);
    EXPECT_EQ(ref->repository(), c.repository);
    EXPECT_EQ(ref->name(), absl::StrCat(c.registry, "/", c.repository));
    EXPECT_EQ(ref->tag(), c.tag);
    if (c.digest.has_value()) {
      ASSERT_TRUE(ref->digest().has_value());
      EXPECT_EQ(ref->digest()->str(), *c.digest);
    } else {
      EXPECT_FALSE(ref->digest().has_value());
    }
    EXPECT_EQ(ref->ToString(), c.canonical);

    absl::StatusOr<ImageRef> reparsed = ImageRef::Parse(ref->ToString());
    ASSERT_TRUE(reparsed.ok()) << reparsed.status();
    EXPECT_EQ(*reparsed, *ref);
  }
}

TEST(ImageRefTest, RejectsMalformedReferences) {
  const struct {
    std::string text;
    std::string message;
  } cases[] = {
      {"", "empty image reference"},
      {std::string(kHex), "is an image id, not a repository"},
      // Names.
      {":tag", "empty name"},
      {absl::StrCat("@", kDigest), "empty name"},
      {"ghcr.io/", "empty repository"},
      {"a//b", "empty path component in repository \"a//b\""},
      {"ghcr.io//b", "empty path component in repository \"/b\""},
      {"a/", "empty path component"},
      {"/a", "empty path component"},
      {"Busybox", "repository \"Busybox\" must be lowercase"},
      {"ghcr.io/MConstant/app",
       "repository \"MConstant/app\" must be lowercase"},
      // Without '.', ':' or "localhost" the first component is a path.
      {"Foo/bar", "repository \"Foo/bar\" must be lowercase"},
      {"a..b", "invalid path component \"a..b\""},
      {"a___b", "invalid path component \"a___b\""},
      {"a_.b", "invalid path component \"a_.b\""},
      {"-a", "invalid path component \"-a\""},
      {"a-", "invalid path component \"a-\""},
      {"x/a_", "invalid path component \"a_\""},
      {"ghcr.io/.a", "invalid path component \".a\""},
      {"a b", "invalid path component \"a b\""},
      {"name:tag:tag2", "invalid path component \"name:tag\""},
      {"ghcr.io/app:v1/x", "invalid path component \"app:v1\""},
      // Registries.
      {"host:/x", "invalid port in registry \"host:\""},
      {"host:50a0/x", "invalid port in registry \"host:50a0\""},
      {"[::1]x/y", "invalid port in registry \"[::1]x\""},
      {"-host.io/x", "invalid registry host \"-host.io\""},
      {"host-.io/x", "invalid registry host \"host-.io\""},
      {"host..io/x", "invalid registry host \"host..io\""},
      {"ho_st.io/x", "invalid registry host \"ho_st.io\""},
      {"[::1/x", "invalid registry host \"[::1\""},
      {"[]:5000/x", "invalid registry host \"[]\""},
      {"[fe80::1%eth0]:5000/x", "invalid registry host \"[fe80::1%eth0]\""},
      // Length, measured on the normalised name.
      {absl::StrCat("ghcr.io/", std::string(248, 'a')),
       "name is 256 characters, longer than 255"},
      {std::string(250, 'a'), "name is 268 characters, longer than 255"},
      // Tags.
      {"name:", "empty tag"},
      {"name:-bad", "tag \"-bad\" must start with a letter, a digit or '_'"},
      {"name:.bad", "must start with a letter, a digit or '_'"},
      {"name:bad!tag", "invalid character '!' at position 3 in tag"},
      {absl::StrCat("name:", std::string(129, 't')),
       "tag is 129 characters, longer than 128"},
      // Digests.
      {"name@", "invalid digest: empty digest"},
      {"name@sha256:abc", "invalid digest: must be \"sha256:\" followed by 64"},
      {absl::StrCat("name@md5:", kHex),
       "invalid digest: unsupported algorithm \"md5\""},
      {absl::StrCat("name@", kDigest, "@", kDigest),
       "invalid digest: must be \"sha256:\" followed by 64"},
      {absl::StrCat("name@", kHex), "invalid digest: missing \"sha256:\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_THAT(
        ImageRef::Parse(c.text),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(ImageRefTest, NormalisedFormsCompareEqual) {
  const std::string forms[] = {"busybox", "library/busybox",
                               "docker.io/busybox", "index.docker.io/busybox",
                               "docker.io/library/busybox"};
  absl::StatusOr<ImageRef> first = ImageRef::Parse(forms[0]);
  ASSERT_TRUE(first.ok()) << first.status();
  for (const std::string& form : forms) {
    SCOPED_TRACE(form);
    absl::StatusOr<ImageRef> ref = ImageRef::Parse(form);
    ASSERT_TRUE(ref.ok()) << ref.status();
    EXPECT_EQ(*ref, *first);
  }
}

TEST(ImageRefTest, WithTagWithDigestAndRepositoryOnly) {
  absl::StatusOr<ImageRef> repo =
      ImageRef::Parse("ghcr.io/mconstant/pay2slay-api");
  ASSERT_TRUE(repo.ok()) << repo.status();
  const Digest digest = Digest::OfBytes("manifest");

  absl::StatusOr<ImageRef> tagged = repo->with_tag(kSha);
  ASSERT_TRUE(tagged.ok()) << tagged.status();
  EXPECT_EQ(tagged->tag(), std::string(kSha));
  EXPECT_EQ(tagged->ToString(),
            absl::StrCat("ghcr.io/mconstant/pay2slay-api:", kSha));

  // with_digest keeps the tag.
  const ImageRef pinned = tagged->with_digest(digest);
  EXPECT_EQ(pinned.tag(), std::string(kSha));
  EXPECT_EQ(pinned.digest(), digest);
  EXPECT_EQ(
      pinned.ToString(),
      absl::StrCat("ghcr.io/mconstant/pay2slay-api:", kSha, "@", digest.str()));

  // with_tag replaces the tag and keeps the digest.
  absl::StatusOr<ImageRef> retagged = pinned.with_tag("latest");
  ASSERT_TRUE(retagged.ok()) << retagged.status();
  EXPECT_EQ(retagged->tag(), "latest");
  EXPECT_EQ(retagged->digest(), digest);

  // with_digest replaces an existing digest.
  const Digest other = Digest::OfBytes("other manifest");
  EXPECT_EQ(pinned.with_digest(other).digest(), other);

  // Digest without a tag.
  EXPECT_EQ(repo->with_digest(digest).ToString(),
            absl::StrCat("ghcr.io/mconstant/pay2slay-api@", digest.str()));

  EXPECT_EQ(pinned.repository_only(), *repo);
  EXPECT_EQ(pinned.repository_only().ToString(),
            "ghcr.io/mconstant/pay2slay-api");

  // The originals are untouched.
  EXPECT_FALSE(repo->tag().has_value());
  EXPECT_FALSE(repo->digest().has_value());
  EXPECT_FALSE(tagged->digest().has_value());

  absl::StatusOr<ImageRef> round_trip = ImageRef::Parse(pinned.ToString());
  ASSERT_TRUE(round_trip.ok()) << round_trip.status();
  EXPECT_EQ(*round_trip, pinned);
}

TEST(ImageRefTest, WithTagRejectsMalformedTags) {
  absl::StatusOr<ImageRef> repo = ImageRef::Parse("ghcr.io/a/b");
  ASSERT_TRUE(repo.ok()) << repo.status();
  const struct {
    std::string tag;
    std::string message;
  } cases[] = {
      {"", "empty tag"},
      {"-x", "must start with a letter, a digit or '_'"},
      {"a:b", "invalid character ':' at position 1 in tag \"a:b\""},
      {"a/b", "invalid character '/' at position 1"},
      {"a@b", "invalid character '@' at position 1"},
      {std::string(129, 'x'), "tag is 129 characters, longer than 128"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.tag);
    EXPECT_THAT(
        repo->with_tag(c.tag),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

}  // namespace
}  // namespace shapin
