#include "common/pagination.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shapin {

absl::StatusOr<PageRequest> ParsePageRequest(int page_size,
                                             absl::string_view page_token) {
  PageRequest page;
  if (page_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: must not be negative, got ", page_size));
  }
  if (page_size > 0) page.page_size = std::min(page_size, kMaxPageSize);
  if (page_token.empty()) return page;
  int64_t id = 0;
  if (page_token.front() != 'p' ||
      !absl::SimpleAtoi(page_token.substr(1), &id) || id <= 0) {
    return absl::InvalidArgumentError(
        "page_token: not a token returned by a previous call");
  }
  page.before_id = id;
  return page;
}

std::string PageToken(std::optional<int64_t> next_before_id) {
  return next_before_id ? absl::StrCat("p", *next_before_id) : "";
}

}  // namespace shapin
