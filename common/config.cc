#include "common/config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/image_ref.h"
#include "common/status_macros.h"
#include "yaml-cpp/yaml.h"

extern char** environ;

namespace shapin {
namespace {

// A key's value arrives either as a YAML node or as an environment string;
// both are reduced to text (scalars) or a list of texts before parsing, so
// each type has one parser.
struct RawValue {
  bool is_list = false;
  std::string scalar;
  std::vector<std::string> list;
};

using Setter = std::function<absl::Status(Config&, const RawValue&)>;

struct KeySpec {
  std::string path;
  Setter set;
};

absl::Status BadValue(absl::string_view key, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("configuration key ", key, ": ", why));
}

// A string one level further down (server.tls.*, deploy.signature.*, …).
// The caller prefixes the key to the error.
template <typename Section, typename Sub>
Setter NestedStringField(Section Config::*section, Sub Section::*sub,
                         std::string Sub::*field) {
  return [=](Config& c, const RawValue& v) -> absl::Status {
    if (v.is_list) return absl::InvalidArgumentError("expected a string");
    ((c.*section).*sub).*field = v.scalar;
    return absl::OkStatus();
  };
}

template <typename Section>
Setter StringField(Section Config::*section, std::string Section::*field,
                   std::string key) {
  return [=](Config& c, const RawValue& v) -> absl::Status {
    if (v.is_list) return BadValue(key, "expected a string, got a list");
    (c.*section).*field = v.scalar;
    return absl::OkStatus();
  };
}

template <typename Section>
Setter IntField(Section Config::*section, int Section::*field, std::string key,
                int min, int max) {
  return [=](Config& c, const RawValue& v) -> absl::Status {
    int n = 0;
    if (v.is_list || !absl::SimpleAtoi(v.scalar, &n)) {
      return BadValue(
          key, absl::StrCat("expected an integer, got \"", v.scalar, "\""));
    }
    if (n < min || n > max) {
      return BadValue(key, absl::StrCat("must be between ", min, " and ", max,
                                        ", got ", n));
    }
    (c.*section).*field = n;
    return absl::OkStatus();
  };
}

template <typename Section>
Setter DurationField(Section Config::*section, absl::Duration Section::*field,
                     std::string key) {
  return [=](Config& c, const RawValue& v) -> absl::Status {
    absl::Duration d;
    if (v.is_list || !absl::ParseDuration(v.scalar, &d) ||
        d < absl::ZeroDuration()) {
      return BadValue(key, absl::StrCat("expected a duration such as 30s, 5m "
                                        "or 1h, got \"",
                                        v.scalar, "\""));
    }
    (c.*section).*field = d;
    return absl::OkStatus();
  };
}

template <typename Section>
Setter ListField(Section Config::*section,
                 std::vector<std::string> Section::*field) {
  return [=](Config& c, const RawValue& v) -> absl::Status {
    std::vector<std::string> items = v.list;
    if (!v.is_list) {
      items = absl::StrSplit(v.scalar, ',', absl::SkipWhitespace());
      for (std::string& item : items) absl::StripAsciiWhitespace(&item);
    }
    (c.*section).*field = std::move(items);
    return absl::OkStatus();
  };
}

template <typename Section>
Setter BoolField(Section Config::*section, bool Section::*field,
                 std::string key) {
  return [=](Config& c, const RawValue& v) -> absl::Status {
    const std::string text = absl::AsciiStrToLower(v.scalar);
    if (!v.is_list && (text == "true" || text == "false")) {
      (c.*section).*field = text == "true";
      return absl::OkStatus();
    }
    return BadValue(
        key, absl::StrCat("expected true or false, got \"", v.scalar, "\""));
  };
}

Setter LogLevelField(std::string key) {
  return [=](Config& c, const RawValue& v) -> absl::Status {
    if (v.is_list || !ParseLogLevel(v.scalar, &c.log.level)) {
      return BadValue(key, absl::StrCat("expected debug, info, warning or "
                                        "error, got \"",
                                        v.scalar, "\""));
    }
    return absl::OkStatus();
  };
}

const std::vector<KeySpec>& Keys() {
  static const std::vector<KeySpec>* keys = [] {
    auto* k = new std::vector<KeySpec>;
    auto add = [k](std::string path, auto make) {
      k->push_back({path, make(path)});
    };
    using C = Config;
    add("server.listen", [](std::string p) {
      return StringField(&C::server, &ServerConfig::listen, p);
    });
    add("server.metrics_listen", [](std::string p) {
      return StringField(&C::server, &ServerConfig::metrics_listen, p);
    });
    add("server.shutdown_grace", [](std::string p) {
      return DurationField(&C::server, &ServerConfig::shutdown_grace, p);
    });
    k->push_back({"server.tls.cert_file",
                  NestedStringField(&Config::server, &ServerConfig::tls,
                                    &ServerTlsConfig::cert_file)});
    k->push_back({"server.tls.key_file",
                  NestedStringField(&Config::server, &ServerConfig::tls,
                                    &ServerTlsConfig::key_file)});
    k->push_back({"server.tls.client_ca_file",
                  NestedStringField(&Config::server, &ServerConfig::tls,
                                    &ServerTlsConfig::client_ca_file)});
    add("auth.tokens_file", [](std::string p) {
      return StringField(&C::auth, &AuthConfig::tokens_file, p);
    });
    add("auth.required", [](std::string p) {
      return BoolField(&C::auth, &AuthConfig::required, p);
    });
    add("auth.refresh_interval", [](std::string p) {
      return DurationField(&C::auth, &AuthConfig::refresh_interval, p);
    });
    add("log.level", [](std::string p) { return LogLevelField(p); });
    add("database.url", [](std::string p) {
      return StringField(&C::database, &DatabaseConfig::url, p);
    });
    add("database.pool_size", [](std::string p) {
      return IntField(&C::database, &DatabaseConfig::pool_size, p, 1, 64);
    });
    add("database.connect_timeout", [](std::string p) {
      return DurationField(&C::database, &DatabaseConfig::connect_timeout, p);
    });
    add("registry.canonical_repository", [](std::string p) {
      return StringField(&C::registry, &RegistryConfig::canonical_repository,
                         p);
    });
    add("registry.staging_repository", [](std::string p) {
      return StringField(&C::registry, &RegistryConfig::staging_repository, p);
    });
    add("registry.insecure_hosts", [](std::string) {
      return ListField(&C::registry, &RegistryConfig::insecure_hosts);
    });
    add("registry.ca_file", [](std::string p) {
      return StringField(&C::registry, &RegistryConfig::ca_file, p);
    });
    add("registry.tls_server_name", [](std::string p) {
      return StringField(&C::registry, &RegistryConfig::tls_server_name, p);
    });
    add("registry.username", [](std::string p) {
      return StringField(&C::registry, &RegistryConfig::username, p);
    });
    add("registry.password_env", [](std::string p) {
      return StringField(&C::registry, &RegistryConfig::password_env, p);
    });
    add("registry.password_file", [](std::string p) {
      return StringField(&C::registry, &RegistryConfig::password_file, p);
    });
    add("build.protected_branches", [](std::string) {
      return ListField(&C::build, &BuildConfig::protected_branches);
    });
    add("build.allowed_source_schemes", [](std::string) {
      return ListField(&C::build, &BuildConfig::allowed_source_schemes);
    });
    add("build.default_source_url", [](std::string p) {
      return StringField(&C::build, &BuildConfig::default_source_url, p);
    });
    add("build.workers", [](std::string p) {
      return IntField(&C::build, &BuildConfig::workers, p, 1, 64);
    });
    add("build.timeout", [](std::string p) {
      return DurationField(&C::build, &BuildConfig::timeout, p);
    });
    add("build.work_dir", [](std::string p) {
      return StringField(&C::build, &BuildConfig::work_dir, p);
    });
    add("build.build_args", [](std::string) {
      return ListField(&C::build, &BuildConfig::build_args);
    });
    add("build.signing.key_file", [](std::string p) {
      return StringField(&C::build, &BuildConfig::signing_key_file, p);
    });
    add("build.signing.builder_id", [](std::string p) {
      return StringField(&C::build, &BuildConfig::signing_builder_id, p);
    });
    add("build.sbom_path", [](std::string p) {
      return StringField(&C::build, &BuildConfig::sbom_path, p);
    });
    auto sig_list = [](std::vector<std::string> SignatureConfig::*field) {
      return [field](Config& c, const RawValue& v) -> absl::Status {
        std::vector<std::string> items = v.list;
        if (!v.is_list) {
          items = absl::StrSplit(v.scalar, ',', absl::SkipWhitespace());
          for (std::string& item : items) absl::StripAsciiWhitespace(&item);
        }
        c.deploy.signature.*field = std::move(items);
        return absl::OkStatus();
      };
    };
    k->push_back({"deploy.signature.mode",
                  NestedStringField(&Config::deploy, &DeployConfig::signature,
                                    &SignatureConfig::mode)});
    k->push_back({"deploy.signature.public_key_files",
                  sig_list(&SignatureConfig::public_key_files)});
    k->push_back({"deploy.signature.fulcio_root_files",
                  sig_list(&SignatureConfig::fulcio_root_files)});
    k->push_back({"deploy.signature.rekor_key_files",
                  sig_list(&SignatureConfig::rekor_key_files)});
    k->push_back({"deploy.signature.trusted_root_file",
                  NestedStringField(&Config::deploy, &DeployConfig::signature,
                                    &SignatureConfig::trusted_root_file)});
    k->push_back({"deploy.signature.identity_issuer",
                  NestedStringField(&Config::deploy, &DeployConfig::signature,
                                    &SignatureConfig::identity_issuer)});
    k->push_back({"deploy.signature.identity_subject_regex",
                  NestedStringField(&Config::deploy, &DeployConfig::signature,
                                    &SignatureConfig::identity_subject_regex)});
    k->push_back({"deploy.signature.allowed_builder_ids",
                  sig_list(&SignatureConfig::allowed_builder_ids)});
    k->push_back({"deploy.akash.console_url",
                  NestedStringField(&Config::deploy, &DeployConfig::akash,
                                    &AkashConfig::console_url)});
    k->push_back({"deploy.akash.console_api_key_env",
                  NestedStringField(&Config::deploy, &DeployConfig::akash,
                                    &AkashConfig::console_api_key_env)});
    k->push_back({"deploy.akash.console_ca_file",
                  NestedStringField(&Config::deploy, &DeployConfig::akash,
                                    &AkashConfig::console_ca_file)});
    k->push_back({"deploy.akash.console_tls_server_name",
                  NestedStringField(&Config::deploy, &DeployConfig::akash,
                                    &AkashConfig::console_tls_server_name)});
    k->push_back({"deploy.akash.cli_binary",
                  NestedStringField(&Config::deploy, &DeployConfig::akash,
                                    &AkashConfig::cli_binary)});
    add("deploy.lock_wait", [](std::string p) {
      return DurationField(&C::deploy, &DeployConfig::lock_wait, p);
    });
    add("deploy.signature.coverage_window", [](std::string p) -> Setter {
      return [p](Config& c, const RawValue& v) -> absl::Status {
        int n = 0;
        if (v.is_list || !absl::SimpleAtoi(v.scalar, &n) || n < 1 || n > 1000) {
          return BadValue(p, absl::StrCat("expected an integer between 1 and "
                                          "1000, got \"",
                                          v.scalar, "\""));
        }
        c.deploy.signature.coverage_window = n;
        return absl::OkStatus();
      };
    });
    add("console.listen", [](std::string p) {
      return StringField(&C::console, &ConsoleConfig::listen, p);
    });
    k->push_back({"console.tls.cert_file",
                  NestedStringField(&Config::console, &ConsoleConfig::tls,
                                    &ServerTlsConfig::cert_file)});
    k->push_back({"console.tls.key_file",
                  NestedStringField(&Config::console, &ConsoleConfig::tls,
                                    &ServerTlsConfig::key_file)});
    add("console.public_origin", [](std::string p) {
      return StringField(&C::console, &ConsoleConfig::public_origin, p);
    });
    add("console.session_idle_timeout", [](std::string p) {
      return DurationField(&C::console, &ConsoleConfig::session_idle_timeout,
                           p);
    });
    add("console.session_max_age", [](std::string p) {
      return DurationField(&C::console, &ConsoleConfig::session_max_age, p);
    });
    return k;
  }();
  return *keys;
}

const KeySpec* FindKey(absl::string_view path) {
  for (const KeySpec& spec : Keys()) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

std::string EnvNameOf(absl::string_view path) {
  return absl::StrCat("SHAPIN_", absl::AsciiStrToUpper(
                                     absl::StrReplaceAll(path, {{".", "_"}})));
}

Config Defaults(Service service) {
  Config c;
  switch (service) {
    case Service::kBuild:
      c.server.listen = "127.0.0.1:50051";
      c.server.metrics_listen = "127.0.0.1:9464";
      break;
    case Service::kDeploy:
      c.server.listen = "127.0.0.1:50052";
      c.server.metrics_listen = "127.0.0.1:9465";
      break;
  }
  return c;
}

absl::StatusOr<RawValue> RawFromNode(const std::string& path,
                                     const YAML::Node& node) {
  RawValue v;
  if (node.IsScalar()) {
    v.scalar = node.Scalar();
    return v;
  }
  if (node.IsNull()) return v;  // "key:" with nothing = empty
  if (node.IsSequence()) {
    v.is_list = true;
    for (const YAML::Node& item : node) {
      if (!item.IsScalar()) {
        return BadValue(path, "list items must be plain values");
      }
      v.list.push_back(item.Scalar());
    }
    return v;
  }
  return BadValue(path, "expected a value, got a map");
}

constexpr absl::string_view kEnvironmentsPath = "deploy.environments";

// deploy.environments is a map of named sections, so it is parsed here
// rather than through the flat key table; environment variables cannot set
// it (names are open-ended).
absl::Status ApplyEnvironments(Config& config, const YAML::Node& node) {
  if (!node.IsMap()) {
    return BadValue(kEnvironmentsPath, "expected a map of environment names");
  }
  for (const auto& entry : node) {
    const std::string name = entry.first.as<std::string>();
    const std::string path = absl::StrCat(kEnvironmentsPath, ".", name);
    const bool valid_name = !name.empty() && name.size() <= 63 &&
                            std::all_of(name.begin(), name.end(), [](char c) {
                              return absl::ascii_islower(c) ||
                                     absl::ascii_isdigit(c) || c == '-' ||
                                     c == '_';
                            });
    if (!valid_name) {
      return BadValue(path,
                      "environment names are lower-case letters, digits, "
                      "'-' or '_' (at most 63)");
    }
    if (!entry.second.IsMap()) return BadValue(path, "expected a map");
    EnvironmentConfig env;
    for (const auto& field : entry.second) {
      const std::string key = field.first.as<std::string>();
      const std::string key_path = absl::StrCat(path, ".", key);
      if (key == "settings") {
        if (!field.second.IsMap()) {
          return BadValue(key_path, "expected a map of strings");
        }
        for (const auto& setting : field.second) {
          if (!setting.second.IsScalar()) {
            return BadValue(
                absl::StrCat(key_path, ".", setting.first.as<std::string>()),
                "expected a plain value");
          }
          env.settings[setting.first.as<std::string>()] =
              setting.second.Scalar();
        }
        continue;
      }
      if (!field.second.IsScalar()) {
        return BadValue(key_path, "expected a plain value");
      }
      const std::string value = field.second.Scalar();
      if (key == "target") {
        env.target = value;
      } else if (key == "template") {
        env.template_file = value;
      } else if (key == "service") {
        env.service = value;
      } else if (key == "health_url") {
        env.health_url = value;
      } else if (key == "version_url") {
        env.version_url = value;
      } else if (key == "rollout_timeout") {
        if (!absl::ParseDuration(value, &env.rollout_timeout) ||
            env.rollout_timeout <= absl::ZeroDuration()) {
          return BadValue(key_path, absl::StrCat("expected a duration, got \"",
                                                 value, "\""));
        }
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown configuration key \"", key_path,
                         "\" (see docs/configuration.md)"));
      }
    }
    if (env.target != "local" && env.target != "akash-console" &&
        env.target != "akash-cli") {
      return BadValue(absl::StrCat(path, ".target"),
                      absl::StrCat("unknown target \"", env.target,
                                   "\" (allowed: local, akash-console, "
                                   "akash-cli)"));
    }
    config.deploy.environments[name] = std::move(env);
  }
  return absl::OkStatus();
}

absl::Status ApplyNode(Config& config, const std::string& prefix,
                       const YAML::Node& node) {
  if (!node.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat("configuration ", prefix.empty() ? "file" : prefix,
                     ": expected a map of keys"));
  }
  for (const auto& entry : node) {
    const std::string name = entry.first.as<std::string>();
    const std::string path = prefix.empty() ? name : prefix + "." + name;
    if (path == kEnvironmentsPath) {
      SHAPIN_RETURN_IF_ERROR(ApplyEnvironments(config, entry.second));
      continue;
    }
    if (const KeySpec* spec = FindKey(path)) {
      SHAPIN_ASSIGN_OR_RETURN(RawValue raw, RawFromNode(path, entry.second));
      SHAPIN_RETURN_IF_ERROR(spec->set(config, raw));
      continue;
    }
    // A section ("server") is known when some key starts with it.
    const std::string section = path + ".";
    bool is_section = path == "deploy";
    for (const KeySpec& spec : Keys()) {
      if (spec.path.rfind(section, 0) == 0) is_section = true;
    }
    if (!is_section) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown configuration key \"", path,
                       "\" (see docs/configuration.md)"));
    }
    SHAPIN_RETURN_IF_ERROR(ApplyNode(config, path, entry.second));
  }
  return absl::OkStatus();
}

// Why `name` is not a DNS name for SNI and certificate checks (labels of
// letters, digits and inner '-', at most 63 each, 253 in all; not an IP
// address); empty when it is one.
std::string DnsNameProblem(absl::string_view name) {
  if (name.size() > 253) return "is longer than 253 characters";
  const std::vector<absl::string_view> labels = absl::StrSplit(name, '.');
  for (absl::string_view label : labels) {
    const bool valid = !label.empty() && label.size() <= 63 &&
                       label.front() != '-' && label.back() != '-' &&
                       std::all_of(label.begin(), label.end(), [](char ch) {
                         return absl::ascii_isalnum(ch) || ch == '-';
                       });
    if (!valid) {
      return absl::StrCat("\"", name,
                          "\" is not a DNS name (labels of letters, digits "
                          "and inner '-', at most 63 characters, joined by "
                          "'.')");
    }
  }
  if (std::all_of(labels.back().begin(), labels.back().end(),
                  [](char ch) { return absl::ascii_isdigit(ch); })) {
    return absl::StrCat("\"", name,
                        "\" is an IP address, not a DNS name (TLS server "
                        "names are names)");
  }
  return "";
}

// console.*: a listener address when set, TLS files in pairs, an origin
// without path, sessions that last.
absl::Status ValidateConsole(const ConsoleConfig& c) {
  if (!c.listen.empty()) {
    const size_t colon = c.listen.rfind(':');
    int port = -1;
    if (colon == std::string::npos || colon == 0 ||
        !absl::SimpleAtoi(c.listen.substr(colon + 1), &port) || port < 0 ||
        port > 65535) {
      return BadValue(
          "console.listen",
          absl::StrCat("expected host:port, got \"", c.listen, "\""));
    }
  }
  if (c.tls.cert_file.empty() != c.tls.key_file.empty()) {
    return BadValue(
        "console.tls.key_file",
        "console.tls.cert_file and console.tls.key_file go together");
  }
  if (!c.public_origin.empty()) {
    const absl::string_view o = c.public_origin;
    const size_t scheme_end = o.find("://");
    const absl::string_view scheme = o.substr(0, scheme_end);
    const absl::string_view rest = scheme_end == absl::string_view::npos
                                       ? absl::string_view()
                                       : o.substr(scheme_end + 3);
    if ((scheme != "https" && scheme != "http") || rest.empty() ||
        rest.find_first_of("/?#@ ") != absl::string_view::npos) {
      return BadValue("console.public_origin",
                      absl::StrCat("expected an origin such as "
                                   "https://shapin.example.org (scheme, host, "
                                   "optional port; no path), got \"",
                                   o, "\""));
    }
  }
  for (auto [key, d] :
       {std::pair<absl::string_view, absl::Duration>{
            "console.session_idle_timeout", c.session_idle_timeout},
        {"console.session_max_age", c.session_max_age}}) {
    if (d <= absl::ZeroDuration()) {
      return BadValue(key, "must be greater than zero");
    }
  }
  return absl::OkStatus();
}

absl::Status Validate(const Config& c) {
  for (auto [key, name] :
       {std::pair<absl::string_view, const std::string*>{
            "registry.tls_server_name", &c.registry.tls_server_name},
        {"deploy.akash.console_tls_server_name",
         &c.deploy.akash.console_tls_server_name}}) {
    if (name->empty()) continue;
    if (std::string problem = DnsNameProblem(*name); !problem.empty()) {
      return BadValue(key, problem);
    }
  }
  if (c.auth.refresh_interval <= absl::ZeroDuration()) {
    return BadValue("auth.refresh_interval", "must be greater than zero");
  }
  if (c.database.url.empty()) {
    return absl::InvalidArgumentError(
        "configuration key database.url is required (set it in the "
        "configuration file or SHAPIN_DATABASE_URL)");
  }
  for (auto [key, repo] :
       {std::pair<absl::string_view, const std::string*>{
            "registry.canonical_repository", &c.registry.canonical_repository},
        {"registry.staging_repository", &c.registry.staging_repository}}) {
    absl::StatusOr<ImageRef> ref = ImageRef::Parse(*repo);
    if (!ref.ok()) return BadValue(key, ref.status().message());
    if (ref->tag() || ref->digest()) {
      return BadValue(key, "must name a repository without tag or digest");
    }
  }
  if (c.registry.canonical_repository == c.registry.staging_repository) {
    return BadValue("registry.staging_repository",
                    "must differ from registry.canonical_repository");
  }
  if (c.build.protected_branches.empty()) {
    return BadValue("build.protected_branches",
                    "must list at least one branch");
  }
  if (c.server.listen.empty()) return BadValue("server.listen", "is required");
  if (c.server.tls.cert_file.empty() != c.server.tls.key_file.empty()) {
    return BadValue("server.tls.key_file",
                    "server.tls.cert_file and server.tls.key_file go together");
  }
  if (!c.server.tls.client_ca_file.empty() && c.server.tls.cert_file.empty()) {
    return BadValue("server.tls.client_ca_file",
                    "needs server.tls.cert_file and server.tls.key_file");
  }
  if (c.deploy.signature.mode != "soft" &&
      c.deploy.signature.mode != "enforce") {
    return BadValue("deploy.signature.mode",
                    absl::StrCat("expected soft or enforce, got \"",
                                 c.deploy.signature.mode, "\""));
  }
  SHAPIN_RETURN_IF_ERROR(ValidateConsole(c.console));
  if (!c.build.sbom_path.empty()) {
    const std::filesystem::path sbom =
        std::filesystem::path(c.build.sbom_path).lexically_normal();
    if (sbom.is_absolute() || *sbom.begin() == "..") {
      return BadValue("build.sbom_path",
                      "must be a path inside the source checkout (relative, "
                      "no \"..\")");
    }
  }
  for (const std::string& arg : c.build.build_args) {
    const size_t eq = arg.find('=');
    const absl::string_view name = absl::string_view(arg).substr(0, eq);
    const bool valid_name = !name.empty() && !absl::ascii_isdigit(name[0]) &&
                            std::all_of(name.begin(), name.end(), [](char ch) {
                              return absl::ascii_isalnum(ch) || ch == '_';
                            });
    if (eq == std::string::npos || !valid_name) {
      return BadValue("build.build_args",
                      absl::StrCat("expected NAME=value, got \"", arg, "\""));
    }
    if (name == "GIT_SHA") {
      return BadValue("build.build_args",
                      "GIT_SHA is set by build-svc from the fetched commit");
    }
  }
  return absl::OkStatus();
}

}  // namespace

Environment EnvironmentFromProcess() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry(*e);
    if (!absl::StartsWith(entry, "SHAPIN_")) continue;
    size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)),
                std::string(entry.substr(eq + 1)));
  }
  return env;
}

absl::StatusOr<Config> LoadConfigFromText(Service service,
                                          absl::string_view yaml_text,
                                          const Environment& env) {
  Config config = Defaults(service);
  if (!absl::StripAsciiWhitespace(yaml_text).empty()) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(yaml_text));
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("configuration is not valid YAML: ", e.what()));
    }
    if (!root.IsNull()) SHAPIN_RETURN_IF_ERROR(ApplyNode(config, "", root));
  }
  for (const KeySpec& spec : Keys()) {
    auto it = env.find(EnvNameOf(spec.path));
    if (it == env.end()) continue;
    absl::Status s = spec.set(config, RawValue{false, it->second, {}});
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(it->first, ": ", s.message()));
    }
  }
  SHAPIN_RETURN_IF_ERROR(Validate(config));
  return config;
}

absl::StatusOr<Config> LoadConfig(Service service, absl::string_view path,
                                  const Environment& env) {
  std::string text;
  if (!path.empty()) {
    std::ifstream in{std::string(path)};
    if (!in) {
      return absl::NotFoundError(
          absl::StrCat("configuration file ", path, " cannot be read"));
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  absl::StatusOr<Config> config = LoadConfigFromText(service, text, env);
  if (!config.ok() && !path.empty()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

std::vector<std::string> ConfigKeys() {
  std::vector<std::string> keys;
  for (const KeySpec& spec : Keys()) keys.push_back(spec.path);
  for (absl::string_view key : {"target", "template", "service", "health_url",
                                "version_url", "rollout_timeout", "settings"}) {
    keys.push_back(absl::StrCat(kEnvironmentsPath, ".<name>.", key));
  }
  return keys;
}

}  // namespace shapin
