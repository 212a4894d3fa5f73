// ReadOnlyTransport: refuses every write before it reaches the network.
//
// deploy-svc runs the registry client read-only: its credentials are
// read-only by design, and a bug that tried to push or delete must fail
// inside the client, not at the registry. GET and HEAD pass through; PUT,
// POST, PATCH and DELETE fail with PERMISSION_DENIED without a request.
//
//   ReadOnlyTransport ro(std::move(retry));
#ifndef SHAPIN_COMMON_REGISTRY_READ_ONLY_TRANSPORT_H_
#define SHAPIN_COMMON_REGISTRY_READ_ONLY_TRANSPORT_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/registry/http.h"

namespace shapin::registry {

class ReadOnlyTransport : public HttpTransport {
 public:
  explicit ReadOnlyTransport(std::unique_ptr<HttpTransport> inner)
      : inner_(std::move(inner)) {}

  absl::StatusOr<HttpResponse> RoundTrip(const HttpRequest& request) override;

 private:
  std::unique_ptr<HttpTransport> inner_;
};

// The error a write gets in read-only mode; `what` names the operation.
absl::Status ReadOnlyError(absl::string_view what);

}  // namespace shapin::registry

#endif  // SHAPIN_COMMON_REGISTRY_READ_ONLY_TRANSPORT_H_
