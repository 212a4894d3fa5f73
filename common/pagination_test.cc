#include "common/pagination.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin {
namespace {

using ::testing::HasSubstr;

TEST(PaginationTest, SizesAreDefaultedAndCapped) {
  struct Case {
    int size;
    int want;
  };
  for (Case c : {Case{0, kDefaultPageSize}, Case{1, 1}, Case{200, 200},
                 Case{100000, kMaxPageSize}}) {
    SCOPED_TRACE(c.size);
    absl::StatusOr<PageRequest> p = ParsePageRequest(c.size, "");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->page_size, c.want);
    EXPECT_FALSE(p->before_id.has_value());
  }
}

TEST(PaginationTest, TokensRoundTrip) {
  absl::StatusOr<PageRequest> p = ParsePageRequest(10, PageToken(42));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->before_id, 42);
  EXPECT_EQ(PageToken(std::nullopt), "");
}

TEST(PaginationTest, BadInputNamesTheField) {
  struct Case {
    int size;
    const char* token;
    const char* field;
  };
  for (Case c : {Case{-1, "", "page_size"}, Case{10, "42", "page_token"},
                 Case{10, "p", "page_token"}, Case{10, "p-3", "page_token"},
                 Case{10, "p0", "page_token"}, Case{10, "px", "page_token"}}) {
    SCOPED_TRACE(c.token);
    absl::StatusOr<PageRequest> p = ParsePageRequest(c.size, c.token);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(p.status().message()), HasSubstr(c.field));
  }
}

}  // namespace
}  // namespace shapin
