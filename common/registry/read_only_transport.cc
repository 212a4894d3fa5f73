#include "common/registry/read_only_transport.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/registry/http.h"

namespace shapin::registry {

absl::Status ReadOnlyError(absl::string_view what) {
  return absl::PermissionDeniedError(
      absl::StrCat("registry client is read-only: refusing ", what));
}

absl::StatusOr<HttpResponse> ReadOnlyTransport::RoundTrip(
    const HttpRequest& request) {
  if (IsWriteMethod(request.method)) {
    return ReadOnlyError(
        absl::StrCat(request.method, " ", RedactUrl(request.url)));
  }
  return inner_->RoundTrip(request);
}

}  // namespace shapin::registry
