// deploy-svc's Prometheus metrics.
//
//   shapin_deploy_duration_seconds{environment,kind,result}   histogram
//   shapin_deployments_total{environment,kind,result}         counter
//   shapin_rollback_total{environment,result}                 counter
//   shapin_signature_verification_total{status,reason}        counter
//   shapin_deployed_image_info{environment,git_sha,digest}    gauge = 1
//   shapin_lead_time_seconds{environment}                     gauge
//   shapin_digest_mismatch_total{phase}                       counter
//   shapin_signed_deployments_ratio{environment}              gauge 0..1
//   shapin_time_to_restore_seconds{environment}               histogram
//   shapin_deploy_waiting{environment}                        gauge
//   shapin_deploy_lock_wait_seconds{environment}              histogram
//
// Dry runs are previews, not deployments: they are in none of these, so
// deployment frequency and the deploy p95 count only real changes.
// shapin_deploy_duration_seconds measures a deployment from the moment it
// has its environment's lock to its result; time queued behind another
// deployment is shapin_deploy_lock_wait_seconds (one observation per locked
// Deploy/Rollback, ~0 when the environment was free, including callers that
// gave up), and shapin_deploy_waiting counts the callers queued right now.
// Deploy buckets are dense around the 300 s p95 target. The ratio is the
// share of the environment's last N deployed distinct SHAs whose signature
// verified (deploy.signature.coverage_window); switch the environment to
// enforce once it stays above 0.9. No series until something was deployed.
#ifndef SHAPIN_DEPLOY_SVC_DEPLOY_METRICS_H_
#define SHAPIN_DEPLOY_SVC_DEPLOY_METRICS_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace shapin::deploy {

class DeployMetrics {
 public:
  explicit DeployMetrics(prometheus::Registry& registry);

  void ObserveDeployment(absl::string_view environment, absl::string_view kind,
                         absl::string_view result, double seconds);
  void CountSignature(absl::string_view status, absl::string_view reason);
  // Replaces the environment's current-image series.
  void SetDeployedImage(const std::string& environment,
                        const std::string& git_sha, const std::string& digest);
  void SetLeadTime(const std::string& environment, double seconds);
  void CountDigestMismatch();
  // A successful rollback: how long the release it replaced was live (its
  // deployment's start to the rollback's end), DORA's time to restore.
  void ObserveTimeToRestore(const std::string& environment, double seconds);
  // `verified` of `total` (> 0) recent SHAs were verified.
  void SetSignedDeploymentsRatio(const std::string& environment, int verified,
                                 int total);
  // A Deploy/Rollback started waiting for `environment`'s lock …
  void LockWaitStarted(const std::string& environment);
  // … and stopped (it has the lock, or gave up) after `seconds`.
  void LockWaitEnded(const std::string& environment, double seconds);

 private:
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Counter>& deployments_;
  prometheus::Family<prometheus::Counter>& rollbacks_;
  prometheus::Family<prometheus::Counter>& signatures_;
  prometheus::Family<prometheus::Gauge>& deployed_;
  prometheus::Family<prometheus::Gauge>& lead_time_;
  prometheus::Family<prometheus::Counter>& digest_mismatches_;
  prometheus::Family<prometheus::Gauge>& signed_ratio_;
  prometheus::Family<prometheus::Histogram>& time_to_restore_;
  prometheus::Family<prometheus::Gauge>& waiting_;
  prometheus::Family<prometheus::Histogram>& lock_wait_;
  absl::Mutex mu_;
  std::map<std::string, prometheus::Gauge*> deployed_by_env_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_DEPLOY_METRICS_H_
