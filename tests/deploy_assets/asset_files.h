// Reading the repository's deployment assets (deploy/, docker-compose.yml)
// from tests: paths are relative to the source root compiled in.
//
//   std::string text = ReadAssetOrDie("deploy/prometheus/prometheus.yml");
//   std::vector<std::string> files = AssetFiles("deploy/ci/github", ".yml");
#ifndef SHAPIN_TESTS_DEPLOY_ASSETS_ASSET_FILES_H_
#define SHAPIN_TESTS_DEPLOY_ASSETS_ASSET_FILES_H_

#include <string>
#include <vector>

namespace shapin::testing {

// Absolute path of a repository-relative path.
std::string AssetPath(const std::string& relative);

// The file's contents; fails the current test (and returns "") when it
// cannot be read.
std::string ReadAssetOrDie(const std::string& relative);

// Repository-relative paths of the files in `dir` ending in `suffix`, sorted.
std::vector<std::string> AssetFiles(const std::string& dir,
                                    const std::string& suffix);

}  // namespace shapin::testing

#endif  // SHAPIN_TESTS_DEPLOY_ASSETS_ASSET_FILES_H_
