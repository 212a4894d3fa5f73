#include "common/signature/simple_signing.h"

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "common/signature/strict_json.h"
#include "common/status_macros.h"

namespace shapin::signature {
namespace {

using Json = nlohmann::json;

absl::Status PayloadError(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("simple-signing payload: ", what));
}

}  // namespace

absl::StatusOr<SimpleSigningPayload> ParseSimpleSigningPayload(
    absl::string_view bytes) {
  absl::StatusOr<Json> doc = ParseStrictJson(bytes);
  if (!doc.ok()) return PayloadError(doc.status().message());
  if (!doc->is_object()) return PayloadError("not a JSON object");
  const Json* critical = FindObject(*doc, "critical");
  if (critical == nullptr) return PayloadError("no \"critical\" object");
  SimpleSigningPayload out;
  const std::string* type = FindString(*critical, "type");
  if (type == nullptr) return PayloadError("no string critical.type");
  out.type = *type;
  const Json* image = FindObject(*critical, "image");
  if (image == nullptr) return PayloadError("no critical.image object");
  const std::string* digest = FindString(*image, "docker-manifest-digest");
  if (digest == nullptr) {
    return PayloadError("no string critical.image.docker-manifest-digest");
  }
  out.manifest_digest = *digest;
  if (const Json* identity = FindMember(*critical, "identity");
      identity != nullptr) {
    if (!identity->is_object()) {
      return PayloadError("critical.identity is not an object");
    }
    if (const Json* ref = FindMember(*identity, "docker-reference");
        ref != nullptr) {
      if (!ref->is_string()) {
        return PayloadError(
            "critical.identity.docker-reference is not a string");
      }
      out.docker_reference = ref->get<std::string>();
    }
  }
  if (const Json* optional = FindMember(*doc, "optional");
      optional != nullptr && !optional->is_null() && !optional->is_object()) {
    return PayloadError("\"optional\" is neither an object nor null");
  }
  return out;
}

std::string GoJsonString(absl::string_view value) {
  std::string out = "\"";
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '<':
      case '>':
      case '&':
        out += absl::StrFormat("\\u%04x", c);
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
      continue;
    }
    // U+2028 / U+2029 are E2 80 A8 / E2 80 A9 in UTF-8.
    if (c == 0xE2 && i + 2 < value.size() &&
        static_cast<unsigned char>(value[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(value[i + 2]) == 0xA8 ||
         static_cast<unsigned char>(value[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(value[i + 2]) == 0xA8 ? "\\u2028"
                                                              : "\\u2029";
      i += 2;
      continue;
    }
    out.push_back(static_cast<char>(c));
  }
  out.push_back('"');
  return out;
}

std::string BuildSimpleSigningPayload(
    absl::string_view docker_reference, const Digest& digest,
    const std::map<std::string, std::string>& optional) {
  std::string out = absl::StrCat(
      "{\"critical\":{\"identity\":{\"docker-reference\":",
      GoJsonString(docker_reference),
      "},\"image\":{\"docker-manifest-digest\":", GoJsonString(digest.str()),
      "},\"type\":", GoJsonString(kCosignSignatureType), "},\"optional\":");
  if (optional.empty()) {
    absl::StrAppend(&out, "null}");
    return out;
  }
  out.push_back('{');
  bool first = true;
  for (const auto& [key, value] : optional) {
    if (!first) out.push_back(',');
    first = false;
    absl::StrAppend(&out, GoJsonString(key), ":", GoJsonString(value));
  }
  absl::StrAppend(&out, "}}");
  return out;
}

}  // namespace shapin::signature
