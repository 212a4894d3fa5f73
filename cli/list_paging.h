// How many rows a list command fetches: --limit N (default 20), --all, and
// --page-token to continue where a previous listing stopped. The server pages
// at most 200 rows per call; this follows next_page_token until enough rows
// are in.
//
//   absl::StatusOr<ListPaging> paging = ListPaging::FromFlags(inv);
//   std::string token = paging->first_token;
//   do {
//     request.set_page_size(paging->NextPageSize(rows));
//     ... call, append rows, token = reply.next_page_token() ...
//   } while (!token.empty() && paging->WantsMore(rows));
#ifndef SHAPIN_CLI_LIST_PAGING_H_
#define SHAPIN_CLI_LIST_PAGING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/command_context.h"
#include "cli/command_line.h"

namespace shapin::cli {

struct ListPaging {
  static constexpr int kServerMaxPage = 200;
  static constexpr int kDefaultLimit = 20;

  int limit = kDefaultLimit;
  bool all = false;
  std::string first_token;

  // --limit N, --all, --page-token TOKEN.
  static std::vector<FlagSpec> Flags();
  // INVALID_ARGUMENT naming --limit when it is not 1..10000.
  static absl::StatusOr<ListPaging> FromFlags(const Invocation& inv);

  // page_size for the next call, given `have` rows so far.
  int NextPageSize(int have) const;
  bool WantsMore(int have) const;
};

// Table mode: after a list that stopped early, a dim line telling how to get
// the rest ("more: --page-token 17 or --all").
void PrintMoreHint(CommandContext& ctx, const std::string& next_token);

}  // namespace shapin::cli

#endif  // SHAPIN_CLI_LIST_PAGING_H_
