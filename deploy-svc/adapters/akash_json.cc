#include "deploy-svc/adapters/akash_json.h"

#include "absl/strings/numbers.h"

namespace shapin::deploy {

const nlohmann::json* Field(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string StringField(const nlohmann::json& j, const char* key) {
  const nlohmann::json* f = Field(j, key);
  return f != nullptr && f->is_string() ? f->get<std::string>() : "";
}

double NumberField(const nlohmann::json& j, const char* key) {
  const nlohmann::json* f = Field(j, key);
  if (f == nullptr) return 0;
  if (f->is_number()) return f->get<double>();
  double d = 0;
  if (f->is_string() && absl::SimpleAtod(f->get<std::string>(), &d)) return d;
  return 0;
}

}  // namespace shapin::deploy
