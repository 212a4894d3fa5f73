// Registry client options from the `registry.*` configuration keys.
//
// The password is read from the environment variable or file the
// configuration names, registered with the logger as a secret, and used for
// the hosts of the canonical and staging repositories only; so is the TLS
// server name (registry.tls_server_name).
#ifndef SHAPIN_COMMON_REGISTRY_OPTIONS_H_
#define SHAPIN_COMMON_REGISTRY_OPTIONS_H_

#include "absl/status/statusor.h"
#include "common/config.h"
#include "common/registry/registry_client.h"

namespace shapin {

// INVALID_ARGUMENT naming the key when the password source is unusable
// (variable unset, file unreadable, both set).
absl::StatusOr<registry::RegistryClientOptions> RegistryOptionsFromConfig(
    const RegistryConfig& config, bool read_only);

}  // namespace shapin

#endif  // SHAPIN_COMMON_REGISTRY_OPTIONS_H_
