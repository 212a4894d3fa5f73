// Keyset pagination shared by the List* RPCs.
//
// Pages are ordered newest first by a monotonically increasing id; a page
// token names the last id returned, so each page is an index range scan
// (`WHERE id < $after ORDER BY id DESC LIMIT n`) whatever the table's size —
// never an OFFSET scan. Tokens are opaque to callers ("p" + id); a malformed
// one is INVALID_ARGUMENT naming page_token.
//
//   SHAPIN_ASSIGN_OR_RETURN(PageRequest page,
//                           ParsePageRequest(req.page_size(),
//                           req.page_token()));
#ifndef SHAPIN_COMMON_PAGINATION_H_
#define SHAPIN_COMMON_PAGINATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shapin {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 200;

struct PageRequest {
  int page_size = kDefaultPageSize;
  // Return rows with id < before_id; unset = from the newest.
  std::optional<int64_t> before_id = std::nullopt;
};

template <typename T>
struct Page {
  std::vector<T> items;
  // Set when more rows may follow: the id to continue before.
  std::optional<int64_t> next_before_id;
};

// page_size 0 → default; negative → INVALID_ARGUMENT; above max → max.
absl::StatusOr<PageRequest> ParsePageRequest(int page_size,
                                             absl::string_view page_token);
std::string PageToken(std::optional<int64_t> next_before_id);

}  // namespace shapin

#endif  // SHAPIN_COMMON_PAGINATION_H_
