#include "common/registry/manifest.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace shapin::registry {
namespace {

using Json = nlohmann::json;

std::string StringField(const Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

absl::StatusOr<Descriptor> ParseDescriptor(const Json& j,
                                           absl::string_view where) {
  if (!j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest ", where, ": descriptor is not an object"));
  }
  absl::StatusOr<Digest> digest = Digest::Parse(StringField(j, "digest"));
  if (!digest.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest ", where,
                     ": bad descriptor digest: ", digest.status().message()));
  }
  Descriptor d(StringField(j, "mediaType"), *digest, 0);
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer() ||
      size->get<int64_t>() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest ", where, ": descriptor ", digest->str(),
                     " has no valid size"));
  }
  d.size = size->get<int64_t>();
  d.artifact_type = StringField(j, "artifactType");
  if (auto urls = j.find("urls"); urls != j.end() && urls->is_array()) {
    for (const Json& u : *urls) {
      if (u.is_string()) d.urls.push_back(u.get<std::string>());
    }
  }
  if (auto a = j.find("annotations"); a != j.end() && a->is_object()) {
    for (auto it = a->begin(); it != a->end(); ++it) {
      if (it.value().is_string()) {
        d.annotations[it.key()] = it.value().get<std::string>();
      }
    }
  }
  return d;
}

absl::StatusOr<std::vector<Descriptor>> ParseDescriptors(const Json& j,
                                                         const char* field) {
  std::vector<Descriptor> out;
  auto it = j.find(field);
  if (it == j.end()) return out;
  if (!it->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest: ", field, " is not an array"));
  }
  for (const Json& d : *it) {
    SHAPIN_ASSIGN_OR_RETURN(Descriptor desc, ParseDescriptor(d, field));
    out.push_back(std::move(desc));
  }
  return out;
}

}  // namespace

bool IsIndexMediaType(absl::string_view media_type) {
  return media_type == kOciIndexType || media_type == kDockerManifestListType;
}

bool IsManifestMediaType(absl::string_view media_type) {
  return IsIndexMediaType(media_type) || media_type == kOciManifestType ||
         media_type == kDockerManifestType;
}

absl::StatusOr<ManifestInfo> ParseManifest(absl::string_view bytes,
                                           absl::string_view content_type) {
  Json j = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return absl::InvalidArgumentError("manifest is not a JSON object");
  }
  ManifestInfo info;
  info.media_type = StringField(j, "mediaType");
  if (info.media_type.empty()) {
    // OCI allows omitting mediaType; fall back to the served type, then to
    // the shape of the document.
    std::string ct(content_type.substr(0, content_type.find(';')));
    if (IsManifestMediaType(ct)) {
      info.media_type = ct;
    } else if (j.contains("manifests")) {
      info.media_type = std::string(kOciIndexType);
    } else {
      info.media_type = std::string(kOciManifestType);
    }
  }
  if (!IsManifestMediaType(info.media_type)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unsupported manifest media type \"", info.media_type, "\""));
  }
  info.is_index = IsIndexMediaType(info.media_type);
  info.artifact_type = StringField(j, "artifactType");
  if (auto a = j.find("annotations"); a != j.end() && a->is_object()) {
    for (auto it = a->begin(); it != a->end(); ++it) {
      if (it.value().is_string()) {
        info.annotations[it.key()] = it.value().get<std::string>();
      }
    }
  }
  if (auto s = j.find("subject"); s != j.end() && !s->is_null()) {
    SHAPIN_ASSIGN_OR_RETURN(Descriptor subject, ParseDescriptor(*s, "subject"));
    info.subject = std::move(subject);
  }
  if (info.is_index) {
    SHAPIN_ASSIGN_OR_RETURN(info.manifests, ParseDescriptors(j, "manifests"));
    return info;
  }
  auto config = j.find("config");
  if (config == j.end()) {
    return absl::InvalidArgumentError("image manifest has no config");
  }
  SHAPIN_ASSIGN_OR_RETURN(Descriptor cfg, ParseDescriptor(*config, "config"));
  info.config = std::move(cfg);
  SHAPIN_ASSIGN_OR_RETURN(info.layers, ParseDescriptors(j, "layers"));
  return info;
}

std::string BuildIndexJson(const std::vector<Descriptor>& manifests) {
  Json list = Json::array();
  for (const Descriptor& d : manifests) {
    Json e = {{"mediaType", d.media_type},
              {"digest", d.digest.str()},
              {"size", d.size}};
    if (!d.artifact_type.empty()) e["artifactType"] = d.artifact_type;
    if (!d.annotations.empty()) e["annotations"] = d.annotations;
    list.push_back(std::move(e));
  }
  Json index = {{"schemaVersion", 2},
                {"mediaType", std::string(kOciIndexType)},
                {"manifests", std::move(list)}};
  return index.dump();
}

}  // namespace shapin::registry
