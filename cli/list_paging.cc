#include "cli/list_paging.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace shapin::cli {

std::vector<FlagSpec> ListPaging::Flags() {
  return {
      {.name = "limit",
       .value_name = "N",
       .help = absl::StrCat("at most N rows (default ", kDefaultLimit, ")")},
      {.name = "all", .help = "every row (follows every page)"},
      {.name = "page-token",
       .value_name = "TOKEN",
       .help = "continue after a previous listing"}};
}

absl::StatusOr<ListPaging> ListPaging::FromFlags(const Invocation& inv) {
  ListPaging p;
  absl::StatusOr<int> limit = inv.Int("limit", kDefaultLimit, 1, 10000);
  if (!limit.ok()) return limit.status();
  p.limit = *limit;
  p.all = inv.Bool("all");
  p.first_token = inv.Flag("page-token", "");
  return p;
}

int ListPaging::NextPageSize(int have) const {
  if (all) return kServerMaxPage;
  return std::clamp(limit - have, 1, kServerMaxPage);
}

bool ListPaging::WantsMore(int have) const { return all || have < limit; }

void PrintMoreHint(CommandContext& ctx, const std::string& next_token) {
  if (next_token.empty()) return;
  ctx.out << ctx.style.Paint(
                 Colour::kDim,
                 absl::StrCat("more: --page-token ", next_token, " or --all"))
          << "\n";
}

}  // namespace shapin::cli
