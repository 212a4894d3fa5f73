// HttpProbe: one GET of an application URL after a rollout (health and
// version checks).
#ifndef SHAPIN_DEPLOY_SVC_HTTP_PROBE_H_
#define SHAPIN_DEPLOY_SVC_HTTP_PROBE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shapin::deploy {

struct ProbeResponse {
  long status = 0;
  std::string body;  // at most 64 KiB
};

class HttpProbe {
 public:
  virtual ~HttpProbe() = default;
  // UNAVAILABLE when nothing answered; any HTTP status is a response.
  virtual absl::StatusOr<ProbeResponse> Get(const std::string& url,
                                            absl::Duration timeout) = 0;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_HTTP_PROBE_H_
