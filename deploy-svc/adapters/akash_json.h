// Lenient field access for Akash JSON (Console API replies, provider-services
// output): a missing or mistyped field reads as empty/zero, because both
// sources omit fields freely and the targets check what they need.
#ifndef SHAPIN_DEPLOY_SVC_ADAPTERS_AKASH_JSON_H_
#define SHAPIN_DEPLOY_SVC_ADAPTERS_AKASH_JSON_H_

#include <string>

#include "nlohmann/json.hpp"

namespace shapin::deploy {

// The member `key` of object `j`; null when `j` is no object or lacks it.
const nlohmann::json* Field(const nlohmann::json& j, const char* key);
// The string member `key`, else "".
std::string StringField(const nlohmann::json& j, const char* key);
// The number member `key`, also when encoded as a string (Cosmos encodes
// 64-bit integers as strings), else 0.
double NumberField(const nlohmann::json& j, const char* key);

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_ADAPTERS_AKASH_JSON_H_
