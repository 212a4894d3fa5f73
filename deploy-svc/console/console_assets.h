// The console's stylesheet and script, compiled into deploy-svc (from
// assets/console.css and assets/console.js at build time), so the console
// needs no files at run time and nothing from a CDN: it works offline.
#ifndef SHAPIN_DEPLOY_SVC_CONSOLE_CONSOLE_ASSETS_H_
#define SHAPIN_DEPLOY_SVC_CONSOLE_CONSOLE_ASSETS_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace shapin::console {

struct ConsoleAsset {
  absl::string_view content_type;
  absl::string_view content;
};

// "console.css" or "console.js"; nullopt for any other name.
std::optional<ConsoleAsset> FindConsoleAsset(absl::string_view name);

}  // namespace shapin::console

#endif  // SHAPIN_DEPLOY_SVC_CONSOLE_CONSOLE_ASSETS_H_
