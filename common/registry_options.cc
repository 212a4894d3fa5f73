#include "common/registry_options.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/image_ref.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace shapin {
namespace {

absl::StatusOr<std::string> ReadPassword(const RegistryConfig& c) {
  if (!c.password_env.empty() && !c.password_file.empty()) {
    return absl::InvalidArgumentError(
        "configuration keys registry.password_env and registry.password_file "
        "are both set; use one");
  }
  if (!c.password_env.empty()) {
    const char* value = std::getenv(c.password_env.c_str());
    if (value == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "configuration key registry.password_env: environment variable ",
          c.password_env, " is not set"));
    }
    return std::string(value);
  }
  if (!c.password_file.empty()) {
    std::ifstream in(c.password_file);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("configuration key registry.password_file: cannot read ",
                       c.password_file));
    }
    std::stringstream text;
    text << in.rdbuf();
    // Secret files usually end with a newline that is not part of the token.
    return std::string(absl::StripTrailingAsciiWhitespace(text.str()));
  }
  return std::string();
}

}  // namespace

absl::StatusOr<registry::RegistryClientOptions> RegistryOptionsFromConfig(
    const RegistryConfig& config, bool read_only) {
  registry::RegistryClientOptions options;
  options.read_only = read_only;
  options.ca_file = config.ca_file;
  options.insecure_hosts = config.insecure_hosts;
  // The server name belongs to the configured registry only: token realms
  // and blob redirects elsewhere keep their own names.
  if (!config.tls_server_name.empty()) {
    for (const std::string& repository :
         {config.canonical_repository, config.staging_repository}) {
      SHAPIN_ASSIGN_OR_RETURN(ImageRef ref, ImageRef::Parse(repository));
      options.tls_server_names[ref.registry()] = config.tls_server_name;
    }
  }
  SHAPIN_ASSIGN_OR_RETURN(std::string password, ReadPassword(config));
  if (!password.empty()) Logger::Global().AddSecret(password);
  if (!config.username.empty() || !password.empty()) {
    for (const std::string& repository :
         {config.canonical_repository, config.staging_repository}) {
      SHAPIN_ASSIGN_OR_RETURN(ImageRef ref, ImageRef::Parse(repository));
      options.credentials[ref.registry()] = {config.username, password};
    }
  }
  return options;
}

}  // namespace shapin
