#include "common/registry/sha256_hasher.h"

#include <string>

#include "absl/strings/string_view.h"
#include "common/digest.h"
#include "gtest/gtest.h"

namespace shapin::registry {
namespace {

TEST(Sha256HasherTest, StreamedEqualsOneShot) {
  Sha256Hasher h;
  EXPECT_EQ(h.Finish().str(),
            "sha256:"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  h.Update("ab");
  h.Update("");
  h.Update("c");
  EXPECT_EQ(h.bytes(), 3u);
  EXPECT_EQ(h.Finish().str(),
            "sha256:"
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(h.bytes(), 0u);  // reset by Finish
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) {
    h.Update(absl::string_view(big).substr(i, 4096));
  }
  EXPECT_EQ(h.Finish(), Digest::OfBytes(big));
}

}  // namespace
}  // namespace shapin::registry
