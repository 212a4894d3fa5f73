#include "deploy-svc/sdl_renderer.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/git_sha.h"
#include "common/status_macros.h"

namespace shapin::deploy {
namespace {

// yaml-cpp marks scalars written quoted in the source with the
// non-specific tag "!", plain ones with "?".
constexpr char kQuotedTag[] = "!";

bool IsEnvName(absl::string_view name) {
  if (name.empty()) return false;
  if (!absl::ascii_isalpha(name[0]) && name[0] != '_') return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

// A scalar we set: always quoted on output, whatever its content.
YAML::Node QuotedScalar(const std::string& value) {
  YAML::Node node(value);
  node.SetTag(kQuotedTag);
  return node;
}

// Emits `node` block-style. Scalars quoted in the template (or set by us)
// are written double-quoted so their type survives; plain ones stay plain
// (the emitter still quotes them if their text would otherwise not parse).
void EmitNode(const YAML::Node& node, YAML::Emitter& out) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& entry : node) {
        out << YAML::Key;
        EmitNode(entry.first, out);
        out << YAML::Value;
        EmitNode(entry.second, out);
      }
      out << YAML::EndMap;
      return;
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const auto& item : node) EmitNode(item, out);
      out << YAML::EndSeq;
      return;
    case YAML::NodeType::Scalar:
      if (node.Tag() == "?" || node.Tag().empty()) {
        out << node.Scalar();
      } else {
        out << YAML::DoubleQuoted << node.Scalar();
      }
      return;
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out << YAML::Null;
      return;
  }
}

absl::StatusOr<std::string> ScalarAt(const YAML::Node& node,
                                     absl::string_view where) {
  if (!node || !node.IsScalar()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sdl template: ", where, " must be a string"));
  }
  return node.Scalar();
}

absl::Status RequireMap(const YAML::Node& node, absl::string_view where) {
  if (!node || !node.IsMap() || node.size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("sdl template: ", where, " must be a non-empty mapping"));
  }
  return absl::OkStatus();
}

// Version, top-level sections, and the pinned service in both `services`
// and `deployment`.
absl::Status CheckSdlShape(const YAML::Node& root, const std::string& service) {
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        "sdl template: the document must be a mapping");
  }
  SHAPIN_ASSIGN_OR_RETURN(std::string version,
                          ScalarAt(root["version"], "version"));
  if (version != "2.0") {
    return absl::InvalidArgumentError(absl::StrCat(
        "sdl template: version is \"", version, "\", expected \"2.0\""));
  }
  for (const char* section : {"services", "profiles", "deployment"}) {
    SHAPIN_RETURN_IF_ERROR(RequireMap(root[section], section));
  }
  const YAML::Node services = root["services"];
  if (!services[service]) {
    std::vector<std::string> known;
    for (const auto& entry : services) {
      known.push_back(entry.first.as<std::string>());
    }
    return absl::InvalidArgumentError(
        absl::StrCat("sdl template: no service \"", service,
                     "\" (services: ", absl::StrJoin(known, ", "), ")"));
  }
  if (!services[service].IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sdl template: services.", service, " must be a mapping"));
  }
  if (!root["deployment"][service]) {
    return absl::InvalidArgumentError(
        absl::StrCat("sdl template: service \"", service,
                     "\" has no entry under deployment"));
  }
  return absl::OkStatus();
}

// A template may pin sidecars itself, but only by digest.
absl::Status CheckOtherImagesPinned(const YAML::Node& services,
                                    const std::string& pinned_service) {
  for (const auto& entry : services) {
    const std::string name = entry.first.as<std::string>();
    if (name == pinned_service) continue;
    const std::string where = absl::StrCat("services.", name, ".image");
    SHAPIN_ASSIGN_OR_RETURN(std::string image,
                            ScalarAt(entry.second["image"], where));
    absl::StatusOr<ImageRef> ref = ImageRef::Parse(image);
    if (!ref.ok() || !ref->digest().has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sdl template: ", where, " \"", image,
          "\" is not pinned by digest (floating references are refused)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<YAML::Node> MergeEnv(const YAML::Node& existing,
                                    const std::vector<EnvVar>& extra,
                                    absl::string_view where) {
  if (existing && !existing.IsNull() && !existing.IsSequence()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sdl template: ", where, " must be a list"));
  }
  YAML::Node merged(YAML::NodeType::Sequence);
  if (existing && existing.IsSequence()) {
    for (const YAML::Node& item : existing) {
      SHAPIN_ASSIGN_OR_RETURN(std::string entry, ScalarAt(item, where));
      const std::string name = entry.substr(0, entry.find('='));
      const bool replaced =
          std::any_of(extra.begin(), extra.end(),
                      [&](const EnvVar& var) { return var.name == name; });
      if (!replaced) merged.push_back(item);
    }
  }
  for (const EnvVar& var : extra) {
    merged.push_back(QuotedScalar(absl::StrCat(var.name, "=", var.value)));
  }
  return merged;
}

}  // namespace

absl::Status CheckPinned(const ImageRef& image) {
  if (!image.digest().has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "image ", image.ToString(),
        " has no digest: only a resolved repository:<sha>@sha256:… is "
        "rendered"));
  }
  if (!image.tag().has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("image ", image.ToString(),
                     " has no tag: the tag must be the commit SHA"));
  }
  if (!GitSha::Parse(*image.tag()).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "image ", image.ToString(), ": tag \"", *image.tag(),
        "\" is not a 40-character commit SHA (floating tags are refused)"));
  }
  return absl::OkStatus();
}

std::vector<EnvVar> ImageEnv(const ImageRef& image) {
  if (!image.tag().has_value() || !image.digest().has_value()) return {};
  return {{"GIT_SHA", *image.tag()}, {"IMAGE_DIGEST", image.digest()->str()}};
}

absl::StatusOr<std::string> RenderSdl(const SdlRenderRequest& request) {
  SHAPIN_RETURN_IF_ERROR(CheckPinned(request.image));
  for (const EnvVar& var : request.env) {
    if (!IsEnvName(var.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("env name \"", var.name, "\" is not a valid name"));
    }
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(request.template_yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("sdl template is not valid YAML: ", e.what()));
  }
  SHAPIN_RETURN_IF_ERROR(CheckSdlShape(root, request.service));
  YAML::Node services = root["services"];
  SHAPIN_RETURN_IF_ERROR(CheckOtherImagesPinned(services, request.service));

  YAML::Node service = services[request.service];
  service["image"] = QuotedScalar(request.image.ToString());
  if (!request.env.empty()) {
    SHAPIN_ASSIGN_OR_RETURN(
        YAML::Node env,
        MergeEnv(service["env"], request.env,
                 absl::StrCat("services.", request.service, ".env")));
    service["env"] = env;
  }

  YAML::Emitter out;
  out.SetIndent(2);
  out << YAML::BeginDoc;
  EmitNode(root, out);
  if (!out.good()) {
    return absl::InternalError(
        absl::StrCat("sdl emitter failed: ", out.GetLastError()));
  }
  return absl::StrCat(out.c_str(), "\n");
}

std::string HclQuote(absl::string_view value) {
  std::string out = "\"";
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    const bool next_is_brace = i + 1 < value.size() && value[i + 1] == '{';
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      // `${` and `%{` start template sequences in an HCL string; doubling
      // the sigil makes them literal.
      case '$':
      case '%':
        out += c;
        if (next_is_brace) out += c;
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

absl::StatusOr<std::string> RenderTfvars(const ImageRef& image) {
  SHAPIN_RETURN_IF_ERROR(CheckPinned(image));
  return absl::StrCat(
      "# Rendered by shapin: the image pinned by commit SHA and digest.\n",
      "image_repository = ", HclQuote(image.name()), "\n",
      "image_sha        = ", HclQuote(*image.tag()), "\n",
      "image_digest     = ", HclQuote(image.digest()->str()), "\n",
      "image_ref        = ", HclQuote(image.ToString()), "\n");
}

}  // namespace shapin::deploy
