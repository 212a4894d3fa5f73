// CurlTransport: the bottom of the registry transport stack, over libcurl.
//
// Keeps a pool of curl easy handles (each keeps its connections alive, so
// requests reuse connections) and shares the DNS and TLS-session caches
// between them. TLS peers are verified against `ca_file` (or the system
// bundle); plain HTTP is refused unless the host is loopback or listed in
// `insecure_hosts`. A request's `timeout` bounds one attempt, its `deadline`
// the whole operation; without a timeout a transfer is aborted only when it
// makes no progress for `stall_timeout`.
//
// A server reached through an address that is not the name on its
// certificate (an IP, an internal DNS name, a tunnel) gets a TLS server name:
// requests to that address are sent with the name as the URL host (so SNI,
// the certificate check and the Host header use it) over a connection to the
// address (CURLOPT_CONNECT_TO). Other hosts (token realms, storage
// redirects) are untouched.
//
//   CurlTransportOptions opts;
//   opts.ca_file = "/etc/shapin/registry-ca.pem";
//   opts.tls_server_names["10.0.0.5:5000"] = "registry.internal.example";
//   SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<CurlTransport> curl,
//                           CurlTransport::Create(opts));
#ifndef SHAPIN_COMMON_REGISTRY_CURL_TRANSPORT_H_
#define SHAPIN_COMMON_REGISTRY_CURL_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/registry/clock.h"
#include "common/registry/http.h"

namespace shapin::registry {

struct CurlTransportOptions {
  // PEM CA bundle used to verify registries (and token servers). Empty: the
  // system bundle.
  std::string ca_file;
  // "host[:port]" allowed over plain HTTP besides loopback.
  std::vector<std::string> insecure_hosts;
  // The name on the certificate of the server at an address, keyed by the
  // address as written in URLs ("10.0.0.5:5000", "[fd00::5]", "gw.internal";
  // no port = 443). Applies to https requests to that address (and to the
  // name on the same port, e.g. Location headers the server builds from the
  // Host it was sent); Location headers and effective URLs naming the server
  // name are mapped back to the address, so callers only see the address.
  absl::flat_hash_map<std::string, std::string> tls_server_names;
  absl::Duration connect_timeout = absl::Seconds(10);
  // A transfer slower than 1 KiB/s for this long is aborted (UNAVAILABLE).
  absl::Duration stall_timeout = absl::Seconds(60);
  // Upper bound on request body bytes sent per second per transfer; 0: no
  // limit.
  int64_t max_send_bytes_per_second = 0;
  std::string user_agent = "shapin-registry-client/0.1";
  Clock* clock = nullptr;  // default: RealClock
};

class CurlTransport : public HttpTransport {
 public:
  // INVALID_ARGUMENT when ca_file is set but unreadable, or a
  // tls_server_names entry is not an address and a host name.
  static absl::StatusOr<std::unique_ptr<CurlTransport>> Create(
      CurlTransportOptions options);
  ~CurlTransport() override;

  absl::StatusOr<HttpResponse> RoundTrip(const HttpRequest& request) override;

  // Whether plain HTTP may be used for `host` ("host[:port]").
  bool PlainHttpAllowed(absl::string_view host) const;

 private:
  struct Shared;
  // One tls_server_names entry, parsed: https requests to
  // address_host:port go to it with server_name as the URL host.
  struct ServerNameRoute {
    std::string address_host;  // lower case; IPv6 in brackets
    std::string port;          // digits, the default 443 filled in
    std::string server_name;   // lower case
  };
  explicit CurlTransport(CurlTransportOptions options,
                         std::vector<ServerNameRoute> routes);
  const ServerNameRoute* RouteFor(absl::string_view url,
                                  bool* url_names_address) const;
  void* AcquireHandle();
  void ReleaseHandle(void* handle);

  CurlTransportOptions options_;
  std::vector<ServerNameRoute> routes_;
  std::unique_ptr<Shared> shared_;
  absl::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);
};

// The libcurl error code that caused `status`, when it came from a
// CurlTransport (a status payload).
std::optional<int> CurlErrorCodeOf(const absl::Status& status);

// True when `status` says the TLS handshake itself failed (the peer does not
// speak TLS, or no common protocol), as opposed to a certificate that could
// not be verified.
bool IsTlsHandshakeFailure(const absl::Status& status);

}  // namespace shapin::registry

#endif  // SHAPIN_COMMON_REGISTRY_CURL_TRANSPORT_H_
