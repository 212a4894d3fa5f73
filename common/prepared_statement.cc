#include "common/prepared_statement.h"

#include <functional>

#include "absl/strings/str_cat.h"

namespace shapin {

std::string PreparedStatementName(const std::string& sql) {
  return absl::StrCat("shapin_", absl::Hex(std::hash<std::string>{}(sql)));
}

}  // namespace shapin
