#include "tests/deploy_assets/asset_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace shapin::testing {

std::string AssetPath(const std::string& relative) {
  return std::string(SHAPIN_SOURCE_ROOT) + "/" + relative;
}

std::string ReadAssetOrDie(const std::string& relative) {
  std::ifstream in(AssetPath(relative));
  if (!in) {
    ADD_FAILURE() << "cannot read " << AssetPath(relative);
    return "";
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> AssetFiles(const std::string& dir,
                                    const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator(AssetPath(dir), ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(dir + "/" + name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace shapin::testing
