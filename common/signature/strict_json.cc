#include "common/signature/strict_json.h"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace shapin::signature {
namespace {

using Json = nlohmann::json;

// What the parser callback found wrong (the first problem only).
struct StrictnessState {
  int max_depth = kMaxJsonDepth;
  std::vector<std::set<std::string>> keys;  // one set per open object
  std::string problem;
};

}  // namespace

absl::StatusOr<Json> ParseStrictJson(absl::string_view text, int max_depth,
                                     size_t max_bytes) {
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "JSON document of ", text.size(), " bytes (limit ", max_bytes, ")"));
  }
  StrictnessState state;
  state.max_depth = max_depth;
  Json::parser_callback_t callback =
      [&state](int depth, Json::parse_event_t event, Json& parsed) {
        if (!state.problem.empty()) return true;
        switch (event) {
          case Json::parse_event_t::object_start:
          case Json::parse_event_t::array_start:
            if (depth >= state.max_depth) {
              state.problem = absl::StrCat("JSON nested deeper than ",
                                           state.max_depth, " levels");
            }
            if (event == Json::parse_event_t::object_start) {
              state.keys.emplace_back();
            }
            break;
          case Json::parse_event_t::object_end:
            if (!state.keys.empty()) state.keys.pop_back();
            break;
          case Json::parse_event_t::key:
            if (!state.keys.empty() && parsed.is_string()) {
              const std::string& key = parsed.get_ref<const std::string&>();
              if (!state.keys.back().insert(key).second) {
                state.problem = absl::StrCat("duplicate key \"",
                                             absl::CHexEscape(key), "\"");
              }
            }
            break;
          default:
            break;
        }
        return true;
      };
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end(), callback,
                      /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", e.what()));
  }
  if (!state.problem.empty()) {
    return absl::InvalidArgumentError(state.problem);
  }
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError("invalid JSON");
  }
  return doc;
}

const Json* FindMember(const Json& object, absl::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(std::string(key));
  if (it == object.end()) return nullptr;
  return &*it;
}

const Json* FindObject(const Json& object, absl::string_view key) {
  const Json* m = FindMember(object, key);
  return m != nullptr && m->is_object() ? m : nullptr;
}

const Json* FindArray(const Json& object, absl::string_view key) {
  const Json* m = FindMember(object, key);
  return m != nullptr && m->is_array() ? m : nullptr;
}

const std::string* FindString(const Json& object, absl::string_view key) {
  const Json* m = FindMember(object, key);
  if (m == nullptr || !m->is_string()) return nullptr;
  return &m->get_ref<const std::string&>();
}

std::optional<int64_t> FindInt64(const Json& object, absl::string_view key) {
  const Json* m = FindMember(object, key);
  if (m == nullptr) return std::nullopt;
  if (m->is_number_integer()) {
    if (m->is_number_unsigned()) {
      uint64_t v = m->get<uint64_t>();
      if (v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<int64_t>(v);
    }
    return m->get<int64_t>();
  }
  if (m->is_string()) {
    const std::string& s = m->get_ref<const std::string&>();
    if (s.empty() || s.size() > 20) return std::nullopt;
    for (size_t i = 0; i < s.size(); ++i) {
      if (!(absl::ascii_isdigit(static_cast<unsigned char>(s[i])) ||
            (i == 0 && s[i] == '-' && s.size() > 1))) {
        return std::nullopt;
      }
    }
    int64_t v = 0;
    if (!absl::SimpleAtoi(s, &v)) return std::nullopt;
    return v;
  }
  return std::nullopt;
}

std::string CanonicalJsonString(absl::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  out.push_back('"');
  for (char c : value) {
    const unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
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
      default:
        if (u < 0x20) {
          out += absl::StrFormat("\\u%04x", u);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace shapin::signature
