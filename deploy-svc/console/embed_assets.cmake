# cmake -DOUT=<file.cc> -DCSS=<console.css> -DJS=<console.js> -P embed_assets.cmake
# Writes the console's assets as raw string literals (console_assets.h).
file(READ ${CSS} css)
file(READ ${JS} js)
foreach(text IN ITEMS "${css}" "${js}")
  string(FIND "${text}" ")shapin_asset\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "an asset contains the raw-string delimiter")
  endif()
endforeach()
file(WRITE ${OUT}.tmp "// Generated from deploy-svc/console/assets by embed_assets.cmake.
#include \"deploy-svc/console/console_assets.h\"

namespace shapin::console {
namespace {
constexpr absl::string_view kCss = R\"shapin_asset(${css})shapin_asset\";
constexpr absl::string_view kJs = R\"shapin_asset(${js})shapin_asset\";
}  // namespace

std::optional<ConsoleAsset> FindConsoleAsset(absl::string_view name) {
  if (name == \"console.css\") return ConsoleAsset{\"text/css; charset=utf-8\", kCss};
  if (name == \"console.js\") {
    return ConsoleAsset{\"text/javascript; charset=utf-8\", kJs};
  }
  return std::nullopt;
}

}  // namespace shapin::console
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
