// CurlHttpProbe: HttpProbe over libcurl.
#ifndef SHAPIN_DEPLOY_SVC_ADAPTERS_CURL_HTTP_PROBE_H_
#define SHAPIN_DEPLOY_SVC_ADAPTERS_CURL_HTTP_PROBE_H_

#include "deploy-svc/http_probe.h"

namespace shapin::deploy {

class CurlHttpProbe : public HttpProbe {
 public:
  absl::StatusOr<ProbeResponse> Get(const std::string& url,
                                    absl::Duration timeout) override;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_ADAPTERS_CURL_HTTP_PROBE_H_
