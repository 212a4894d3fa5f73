#include "deploy-svc/deploy_metrics.h"

namespace shapin::deploy {
namespace {

const prometheus::Histogram::BucketBoundaries& DeployBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      1, 5, 10, 30, 60, 90, 120, 180, 240, 270, 300, 330, 360, 420, 600, 900};
  return *b;
}

}  // namespace

DeployMetrics::DeployMetrics(prometheus::Registry& registry)
    : duration_(prometheus::BuildHistogram()
                    .Name("shapin_deploy_duration_seconds")
                    .Help("Time from a Deploy/Rollback having its "
                          "environment's lock to its result (waiting for the "
                          "lock excluded).")
                    .Register(registry)),
      deployments_(prometheus::BuildCounter()
                       .Name("shapin_deployments_total")
                       .Help("Deployments that ended, by result.")
                       .Register(registry)),
      rollbacks_(prometheus::BuildCounter()
                     .Name("shapin_rollback_total")
                     .Help("Rollbacks that ended, by result.")
                     .Register(registry)),
      signatures_(prometheus::BuildCounter()
                      .Name("shapin_signature_verification_total")
                      .Help("Signature verifications by status and reason.")
                      .Register(registry)),
      deployed_(prometheus::BuildGauge()
                    .Name("shapin_deployed_image_info")
                    .Help("1 for the image running in each environment.")
                    .Register(registry)),
      lead_time_(prometheus::BuildGauge()
                     .Name("shapin_lead_time_seconds")
                     .Help("Commit time to successful deploy, last deploy.")
                     .Register(registry)),
      digest_mismatches_(
          prometheus::BuildCounter()
              .Name("shapin_digest_mismatch_total")
              .Help("SHA tags whose digest differed from the expected one "
                    "(escalated).")
              .Register(registry)),
      signed_ratio_(prometheus::BuildGauge()
                        .Name("shapin_signed_deployments_ratio")
                        .Help("Share of the last N deployed distinct SHAs "
                              "whose signature verified.")
                        .Register(registry)),
      time_to_restore_(
          prometheus::BuildHistogram()
              .Name("shapin_time_to_restore_seconds")
              .Help("Start of the release a rollback replaced to the end of "
                    "the rollback.")
              .Register(registry)),
      waiting_(prometheus::BuildGauge()
                   .Name("shapin_deploy_waiting")
                   .Help("Deploy/Rollback calls waiting now for their "
                         "environment's lock.")
                   .Register(registry)),
      lock_wait_(prometheus::BuildHistogram()
                     .Name("shapin_deploy_lock_wait_seconds")
                     .Help("Time a Deploy/Rollback waited for its "
                           "environment's lock (deploy.lock_wait bounds it).")
                     .Register(registry)) {
  digest_mismatches_.Add({{"phase", "deploy"}});
}

void DeployMetrics::ObserveDeployment(absl::string_view environment,
                                      absl::string_view kind,
                                      absl::string_view result,
                                      double seconds) {
  const std::map<std::string, std::string> labels = {
      {"environment", std::string(environment)},
      {"kind", std::string(kind)},
      {"result", std::string(result)}};
  duration_.Add(labels, DeployBuckets()).Observe(seconds);
  deployments_.Add(labels).Increment();
  if (kind == "rollback") {
    rollbacks_
        .Add({{"environment", std::string(environment)},
              {"result", std::string(result)}})
        .Increment();
  }
}

void DeployMetrics::LockWaitStarted(const std::string& environment) {
  waiting_.Add({{"environment", environment}}).Increment();
}

void DeployMetrics::LockWaitEnded(const std::string& environment,
                                  double seconds) {
  // Free (~0) to deploy.lock_wait's default of 10 minutes.
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.05, 0.25, 1, 5, 15, 30, 60, 120, 300, 600};
  waiting_.Add({{"environment", environment}}).Decrement();
  lock_wait_.Add({{"environment", environment}}, kBuckets).Observe(seconds);
}

void DeployMetrics::ObserveTimeToRestore(const std::string& environment,
                                         double seconds) {
  // Minutes to days: a bad release is usually noticed within hours.
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200, 604800};
  time_to_restore_.Add({{"environment", environment}}, kBuckets)
      .Observe(seconds);
}

void DeployMetrics::CountSignature(absl::string_view status,
                                   absl::string_view reason) {
  signatures_
      .Add({{"status", std::string(status)}, {"reason", std::string(reason)}})
      .Increment();
}

void DeployMetrics::SetDeployedImage(const std::string& environment,
                                     const std::string& git_sha,
                                     const std::string& digest) {
  absl::MutexLock lock(&mu_);
  auto it = deployed_by_env_.find(environment);
  if (it != deployed_by_env_.end()) deployed_.Remove(it->second);
  prometheus::Gauge& g = deployed_.Add(
      {{"environment", environment}, {"git_sha", git_sha}, {"digest", digest}});
  g.Set(1);
  deployed_by_env_[environment] = &g;
}

void DeployMetrics::SetLeadTime(const std::string& environment,
                                double seconds) {
  lead_time_.Add({{"environment", environment}}).Set(seconds);
}

void DeployMetrics::CountDigestMismatch() {
  digest_mismatches_.Add({{"phase", "deploy"}}).Increment();
}

void DeployMetrics::SetSignedDeploymentsRatio(const std::string& environment,
                                              int verified, int total) {
  if (total <= 0) return;
  signed_ratio_.Add({{"environment", environment}})
      .Set(static_cast<double>(verified) / total);
}

}  // namespace shapin::deploy
