#include "common/digest.h"

#include "tests/support/status_matchers.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin {
namespace {

using ::testing::HasSubstr;

using ::shapin::testing::StatusIs;

// sha256("abc"), FIPS 180-2 appendix B.1.
constexpr absl::string_view kAbcHex =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(DigestTest, OfBytesMatchesKnownVectors) {
  const struct {
    std::string name;
    std::string bytes;
    std::string hex;
  } cases[] = {
      {"empty", "",
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "abc", std::string(kAbcHex)},
      {"two blocks", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"million a", std::string(1000000, 'a'),
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
      // Embedded NUL: the whole view is hashed, not a C string.
      {"embedded nul", std::string("a\0b", 3),
       "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const Digest d = Digest::OfBytes(c.bytes);
    EXPECT_EQ(d.str(), absl::StrCat("sha256:", c.hex));
    EXPECT_EQ(d.hex(), c.hex);
    EXPECT_EQ(d.algorithm(), "sha256");
    EXPECT_EQ(d.tag_fallback(), absl::StrCat("sha256-", c.hex));
  }
}

TEST(DigestTest, ParseAndFromSha256HexAgreeAndRoundTrip) {
  const std::string text = absl::StrCat("sha256:", kAbcHex);
  absl::StatusOr<Digest> parsed = Digest::Parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  absl::StatusOr<Digest> from_hex = Digest::FromSha256Hex(kAbcHex);
  ASSERT_TRUE(from_hex.ok()) << from_hex.status();

  EXPECT_EQ(parsed->str(), text);
  EXPECT_EQ(*parsed, *from_hex);
  EXPECT_EQ(*parsed, Digest::OfBytes("abc"));
  absl::StatusOr<Digest> reparsed = Digest::Parse(parsed->str());
  ASSERT_TRUE(reparsed.ok()) << reparsed.status();
  EXPECT_EQ(*reparsed, *parsed);
  EXPECT_NE(*parsed, Digest::OfBytes(""));
}

TEST(DigestTest, ParseRejectsMalformedDigests) {
  const std::string hex(kAbcHex);
  const struct {
    std::string name;
    std::string text;
    std::string message;
  } cases[] = {
      {"empty", "", "empty digest"},
      {"bare hex", hex, "missing \"sha256:\" prefix"},
      {"other algorithm", absl::StrCat("sha512:", hex, hex),
       "unsupported algorithm \"sha512\", only sha256 is accepted"},
      {"upper-case algorithm", absl::StrCat("SHA256:", hex),
       "unsupported algorithm \"SHA256\""},
      {"leading space", absl::StrCat(" sha256:", hex),
       "unsupported algorithm \" sha256\""},
      {"prefix only", "sha256:",
       "must be \"sha256:\" followed by 64 lowercase hex characters, got 0"},
      {"one short", absl::StrCat("sha256:", hex.substr(1)),
       "must be \"sha256:\" followed by 64 lowercase hex characters, got 63"},
      {"one long", absl::StrCat("sha256:", hex, "0"),
       "must be \"sha256:\" followed by 64 lowercase hex characters, got 65"},
      // Positions count from the start of the input, prefix included.
      {"upper-case hex", absl::StrCat("sha256:B", hex.substr(1)),
       "invalid character 'B' at position 7 (must be lowercase)"},
      {"non-hex", absl::StrCat("sha256:", hex.substr(0, 63), "g"),
       "invalid character 'g' at position 70"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(
        Digest::Parse(c.text),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(DigestTest, FromSha256HexRejectsMalformedHex) {
  const std::string hex(kAbcHex);
  const struct {
    std::string name;
    std::string hex;
    std::string message;
  } cases[] = {
      {"empty", "", "must be 64 lowercase hex characters, got 0"},
      {"with prefix", absl::StrCat("sha256:", hex),
       "must be 64 lowercase hex characters, got 71"},
      {"one short", hex.substr(1),
       "must be 64 lowercase hex characters, got 63"},
      {"upper-case", absl::StrCat(hex.substr(0, 10), "F", hex.substr(11)),
       "invalid character 'F' at position 10 (must be lowercase)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(
        Digest::FromSha256Hex(c.hex),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

}  // namespace
}  // namespace shapin
