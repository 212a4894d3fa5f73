#include "deploy-svc/deploy_pipeline.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/error_code.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "deploy-svc/environment_lock_queue.h"
#include "deploy-svc/interrupted_deployments.h"
#include "deploy-svc/sdl_renderer.h"

namespace shapin::deploy {
namespace {

// How many recent successful deployments a rollback looks back over.
constexpr int kRollbackHistory = 100;

std::string PinnedRef(const std::string& repository, const GitSha& sha,
                      const Digest& digest) {
  return absl::StrCat(repository, ":", sha.str(), "@", digest.str());
}

// Target errors that the target did not classify are TARGET_FAILURE.
absl::Status AsTargetFailure(const absl::Status& s, absl::string_view what) {
  if (s.ok() || ErrorCodeOf(s)) return s;
  return ShapinError(ErrorCode::kTargetFailure,
                     absl::StrCat(what, ": ", s.message()));
}

}  // namespace

struct DeployPipeline::Attempt {
  const DeployArgs& args;
  const Environment& env;
  DeploymentRecord record;
  std::optional<DeploymentRecord> current;
  absl::Time start;
  std::optional<absl::Time> commit_time = std::nullopt;
};

DeployPipeline::DeployPipeline(DeploymentStore& store, ImageResolver& resolver,
                               SignatureVerifier& verifier, HttpProbe& probe,
                               DeployMetrics& metrics,
                               std::map<std::string, Environment> environments,
                               DeployPipelineOptions options)
    : store_(store),
      resolver_(resolver),
      verifier_(verifier),
      probe_(probe),
      metrics_(metrics),
      environments_(std::move(environments)),
      options_(std::move(options)) {}

void DeployPipeline::Sleep(absl::Duration d) const {
  if (options_.sleep) {
    options_.sleep(d);
  } else {
    absl::SleepFor(d);
  }
}

absl::StatusOr<const Environment*> DeployPipeline::FindEnvironment(
    const std::string& environment) const {
  auto it = environments_.find(environment);
  if (it != environments_.end()) return &it->second;
  std::vector<std::string> names;
  for (const auto& [name, env] : environments_) names.push_back(name);
  return absl::InvalidArgumentError(
      absl::StrCat("environment: \"", environment.substr(0, 64),
                   "\" is not configured (configured: ",
                   names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
}

absl::Status DeployPipeline::WithLock(const std::string& environment,
                                      const CallLimits& call,
                                      absl::FunctionRef<absl::Status()> fn) {
  LockWait wait;
  wait.max_wait = options_.lock_wait;
  wait.deadline = call.deadline;
  wait.cancelled = call.cancelled;
  wait.on_wait = [&](const LockHolder& holder) {
    std::vector<LogField> fields = {{"environment", environment},
                                    {"holder", DescribeLockHolder(holder)}};
    if (holder.deployment_id != 0) {
      fields.push_back({"holder_deployment_id", holder.deployment_id});
      fields.push_back({"holder_sha", holder.image_sha});
    }
    fields.push_back({"lock_wait", absl::FormatDuration(options_.lock_wait)});
    Logger::Global().Log(LogLevel::kInfo, "deploy_waiting", fields);
  };
  // Every locked call counts as waiting until it has the lock or gives up
  // (an uncontended one for a moment, observed as ~0 s).
  const absl::Time asked = absl::Now();
  bool waiting = true;
  metrics_.LockWaitStarted(environment);
  auto stop_waiting = [&] {
    if (!waiting) return;
    waiting = false;
    metrics_.LockWaitEnded(environment,
                           absl::ToDoubleSeconds(absl::Now() - asked));
  };
  absl::Status status =
      store_.WithEnvironmentLock(environment, wait, [&]() -> absl::Status {
        stop_waiting();
        return fn();
      });
  stop_waiting();
  return status;
}

absl::StatusOr<DeploymentRecord> DeployPipeline::Deploy(
    const DeployArgs& args) {
  SHAPIN_ASSIGN_OR_RETURN(const Environment* env,
                          FindEnvironment(args.environment));
  if (args.dry_run) {
    // A dry run applies nothing, so it neither waits for nor blocks a
    // deployment in flight (concurrent preflights would otherwise fail
    // ABORTED "busy"); RunLocked leaves other rows alone for it.
    return RunLocked(args, DeploymentKind::kDeploy, "", *env);
  }
  std::optional<DeploymentRecord> result;
  SHAPIN_RETURN_IF_ERROR(
      WithLock(args.environment, args.call, [&]() -> absl::Status {
        SHAPIN_ASSIGN_OR_RETURN(
            DeploymentRecord r,
            RunLocked(args, DeploymentKind::kDeploy, "", *env));
        result = std::move(r);
        return absl::OkStatus();
      }));
  return *std::move(result);
}

absl::StatusOr<DeploymentRecord> DeployPipeline::Rollback(
    const std::string& environment, const std::optional<GitSha>& image_sha,
    const std::string& reason, const std::string& requested_by,
    const CallLimits& call) {
  SHAPIN_ASSIGN_OR_RETURN(const Environment* env, FindEnvironment(environment));
  if (reason.empty()) {
    return absl::InvalidArgumentError(
        "reason: is required (why the rollback; it is kept in history)");
  }
  std::optional<DeploymentRecord> result;
  SHAPIN_RETURN_IF_ERROR(WithLock(environment, call, [&]() -> absl::Status {
    SHAPIN_ASSIGN_OR_RETURN(
        std::vector<GitSha> history,
        store_.SuccessfulShas(environment, kRollbackHistory));
    std::optional<GitSha> current;
    if (!history.empty()) current = history.front();
    SHAPIN_ASSIGN_OR_RETURN(
        GitSha target,
        ChooseRollbackTarget(environment, image_sha, current, history));
    DeployArgs args(target);
    args.environment = environment;
    args.requested_by = requested_by;
    args.override_hold = true;  // a rollback may replace a rollback
    args.force = true;
    SHAPIN_ASSIGN_OR_RETURN(
        DeploymentRecord r,
        RunLocked(args, DeploymentKind::kRollback, reason, *env));
    result = std::move(r);
    return absl::OkStatus();
  }));
  return *std::move(result);
}

absl::StatusOr<DeploymentRecord> DeployPipeline::RunLocked(
    const DeployArgs& args, DeploymentKind kind, const std::string& reason,
    const Environment& env) {
  // Under the lock nothing else can be running: anything left PENDING or
  // RUNNING belongs to a deploy-svc that died mid-deploy. (Dry runs hold no
  // lock, so they must not judge other rows.)
  absl::StatusOr<int> abandoned =
      args.dry_run ? absl::StatusOr<int>(0)
                   : store_.FailAbandoned(args.environment,
                                          kInterruptedDeploymentReason);
  if (abandoned.ok() && *abandoned > 0) {
    LogWarning("deployments_abandoned",
               {{"environment", args.environment}, {"count", *abandoned}});
  }
  // The current deployment decides the no-op and feeds apply; a dry run uses
  // neither (Create records previous_sha itself), so it skips the read.
  std::optional<DeploymentRecord> current;
  absl::StatusOr<DeploymentRecord> found =
      args.dry_run ? absl::NotFoundError("dry run")
                   : store_.GetCurrent(args.environment);
  if (found.ok()) {
    current = *found;
  } else if (!absl::IsNotFound(found.status())) {
    return found.status();
  }
  if (kind == DeploymentKind::kDeploy && current && !args.force &&
      !args.dry_run && current->image_sha == args.image_sha &&
      TagStillNames(args.image_sha, current->digest)) {
    LogInfo("deploy_noop", {{"environment", args.environment},
                            {"git_sha", args.image_sha.str()},
                            {"deployment_id", current->deployment_id}});
    return *current;
  }
  // Otherwise (including a running SHA whose tag moved, went missing or
  // could not be read) a full attempt runs: its digest guard reports the
  // mismatch, recorded and escalated, before anything is applied.

  NewDeployment fresh(args.image_sha);
  fresh.environment = args.environment;
  fresh.kind = kind;
  fresh.target = env.config.target;
  fresh.requested_by = args.requested_by;
  fresh.reason = reason;
  fresh.dry_run = args.dry_run;
  SHAPIN_ASSIGN_OR_RETURN(DeploymentRecord record, store_.Create(fresh));
  Attempt a{args, env, std::move(record), current, absl::Now()};
  a.record.state = DeploymentState::kRunning;
  a.record.started_at = a.start;

  absl::Status status = Execute(a);
  DeploymentRecord& r = a.record;
  r.finished_at = absl::Now();
  r.duration_seconds = absl::ToDoubleSeconds(*r.finished_at - a.start);
  const std::string kind_name(DeploymentKindName(kind));
  if (status.ok()) {
    r.state = DeploymentState::kSucceeded;
  } else {
    r.state = DeploymentState::kFailed;
    r.error_code = std::string(
        ErrorCodeOf(status) ? ErrorCodeName(*ErrorCodeOf(status)) : "");
    r.error_message = std::string(status.message());
  }
  SHAPIN_RETURN_IF_ERROR(store_.Update(r));
  if (!r.dry_run) {
    metrics_.ObserveDeployment(args.environment, kind_name,
                               status.ok() ? "succeeded" : "failed",
                               *r.duration_seconds);
  }
  if (!status.ok()) {
    LogWarning("deployment_failed", {{"deployment_id", r.deployment_id},
                                     {"environment", args.environment},
                                     {"kind", kind_name},
                                     {"error_code", r.error_code},
                                     {"error", r.error_message}});
    return absl::Status(
        status.code(),
        absl::StrCat(status.message(), " (deployment ", r.deployment_id, ")"));
  }
  if (r.dry_run) {
    LogInfo("deployment_rendered",
            {{"deployment_id", r.deployment_id}, {"image_ref", r.image_ref}});
    return r;
  }
  metrics_.SetDeployedImage(args.environment, r.image_sha.str(),
                            r.digest->str());
  RefreshSignatureCoverage(args.environment);
  if (a.commit_time) {
    metrics_.SetLeadTime(
        args.environment,
        absl::ToDoubleSeconds(*r.finished_at - *a.commit_time));
  }
  if (kind == DeploymentKind::kRollback && a.current && a.current->started_at) {
    metrics_.ObserveTimeToRestore(
        args.environment,
        absl::ToDoubleSeconds(*r.finished_at - *a.current->started_at));
  }
  if (kind == DeploymentKind::kRollback) {
    SHAPIN_RETURN_IF_ERROR(store_.SetHold(
        args.environment, r.deployment_id,
        args.requested_by.empty() ? "an operator" : args.requested_by));
  }
  LogInfo("deployment_succeeded", {{"deployment_id", r.deployment_id},
                                   {"environment", args.environment},
                                   {"kind", kind_name},
                                   {"image_ref", r.image_ref},
                                   {"previous_sha", r.previous_sha},
                                   {"target_ref", r.target_ref}});
  return r;
}

void DeployPipeline::RefreshSignatureCoverage(const std::string& environment) {
  absl::StatusOr<SignatureCoverage> coverage =
      store_.SignatureCoverageOf(environment, options_.coverage_window);
  if (!coverage.ok()) {
    LogWarning(
        "signature_coverage_not_refreshed",
        {{"environment", environment}, {"error", coverage.status().message()}});
    return;
  }
  metrics_.SetSignedDeploymentsRatio(environment, coverage->verified,
                                     coverage->total);
}

bool DeployPipeline::TagStillNames(const GitSha& sha,
                                   const std::optional<Digest>& running) {
  // The no-op answers from history only while the registry agrees: a tag of
  // the running SHA repointed out of band must not hide behind it.
  if (!running) return false;
  absl::StatusOr<std::optional<Digest>> tag =
      resolver_.ResolveTag(options_.canonical_repository, sha.str());
  return tag.ok() && tag->has_value() && **tag == *running;
}

absl::StatusOr<Digest> DeployPipeline::CheckImage(
    const GitSha& sha, DeploymentKind kind,
    std::optional<int64_t> deployment_id, const ImageFacts& facts) {
  const std::string& repo = options_.canonical_repository;
  if (kind == DeploymentKind::kRollback && !facts.canonical_digest) {
    return ShapinError(
        ErrorCode::kPolicyViolation,
        absl::StrCat(sha.str(),
                     " is not in the rollback catalog: no build of "
                     "it from a protected branch is recorded"));
  }
  absl::StatusOr<std::optional<Digest>> tag =
      resolver_.ResolveTag(repo, sha.str());
  if (!tag.ok()) {
    return absl::Status(tag.status().code(),
                        absl::StrCat("resolving ", repo, ":", sha.str(), ": ",
                                     tag.status().message()));
  }
  absl::StatusOr<Digest> digest =
      CheckOrigin(sha, repo,
                  {.canonical_tag_digest = *tag,
                   .recorded_canonical_digest = facts.canonical_digest,
                   .recorded_in_staging = facts.in_staging});
  if (ErrorCodeOf(digest.status()) == ErrorCode::kDigestMismatch) {
    metrics_.CountDigestMismatch();
    LogError("digest_mismatch", {{"phase", "deploy"},
                                 {"git_sha", sha.str()},
                                 {"repository", repo},
                                 {"error", digest.status().message()}});
    (void)store_.RecordEvent("digest_mismatch", "error", deployment_id,
                             sha.str(), std::string(digest.status().message()));
  }
  return digest;
}

absl::Status DeployPipeline::Execute(Attempt& a) {
  DeploymentRecord& r = a.record;
  const std::string& environment = a.args.environment;
  // RUNNING, and what the checks below need, in one round trip.
  SHAPIN_ASSIGN_OR_RETURN(RunningChecks checks,
                          store_.MarkRunning(r, options_.canonical_repository));

  if (r.kind == DeploymentKind::kDeploy) {
    const HoldRecord& hold = checks.hold;
    SHAPIN_RETURN_IF_ERROR(
        CheckHold(environment,
                  {.held = hold.held,
                   .rollback_deployment_id = absl::StrCat(hold.deployment_id),
                   .held_by = hold.held_by,
                   .held_sha = hold.held_sha},
                  a.args.image_sha, a.args.override_hold));
  }

  SHAPIN_ASSIGN_OR_RETURN(
      Digest digest,
      CheckImage(a.args.image_sha, r.kind, r.deployment_id, checks.image));
  a.commit_time = checks.image.commit_time;
  r.digest = digest;
  r.image_ref =
      PinnedRef(options_.canonical_repository, a.args.image_sha, digest);
  SHAPIN_ASSIGN_OR_RETURN(ImageRef pinned, ImageRef::Parse(r.image_ref));
  LogInfo("image_resolved",
          {{"deployment_id", r.deployment_id}, {"image_ref", r.image_ref}});

  SHAPIN_ASSIGN_OR_RETURN(
      SignatureVerdict verdict,
      ApplySignaturePolicy(verifier_.Verify(pinned, a.args.image_sha),
                           options_.signature_mode));
  r.signature_status = verdict.verified ? "verified" : "unverified";
  r.signature_reason = verdict.reason;
  r.provenance_status = verdict.provenance_status;
  metrics_.CountSignature(r.signature_status, r.signature_reason);
  if (verdict.verified) {
    LogInfo("signature_checked", {{"deployment_id", r.deployment_id},
                                  {"signature_status", "verified"},
                                  {"image_ref", r.image_ref}});
  } else {
    LogWarning("signature_checked", {{"deployment_id", r.deployment_id},
                                     {"signature_status", "unverified"},
                                     {"reason", verdict.reason},
                                     {"image_ref", r.image_ref}});
  }

  SHAPIN_ASSIGN_OR_RETURN(r.rendered_manifest,
                          RenderManifest(environment, a.env, pinned));
  SHAPIN_ASSIGN_OR_RETURN(r.rendered_tfvars, RenderTfvars(pinned));
  // A dry run ends here: RunLocked writes the rendered result together with
  // the final state (one write instead of two, microseconds apart).
  if (r.dry_run) return absl::OkStatus();
  SHAPIN_RETURN_IF_ERROR(store_.Update(r));

  ApplyRequest apply{.image = pinned, .git_sha = a.args.image_sha};
  apply.environment = environment;
  apply.manifest = r.rendered_manifest;
  apply.settings = a.env.config.settings;
  if (a.current) apply.previous_target_ref = a.current->target_ref;
  absl::StatusOr<ApplyResult> applied = a.env.target->Apply(apply);
  SHAPIN_RETURN_IF_ERROR(AsTargetFailure(applied.status(), "apply"));
  r.target_ref = applied->target_ref;
  r.endpoints = applied->endpoints;
  SHAPIN_RETURN_IF_ERROR(store_.Update(r));

  const bool expect_change = !a.current || a.current->image_sha != r.image_sha;
  return AwaitRollout(a, *applied, expect_change);
}

absl::StatusOr<std::string> DeployPipeline::RenderManifest(
    const std::string& environment, const Environment& env,
    const ImageRef& image) {
  const std::string key = absl::StrCat(environment, "\n", image.ToString());
  if (std::optional<std::string> known = rendered_.Get(key)) {
    return *std::move(known);
  }
  SHAPIN_ASSIGN_OR_RETURN(std::string sdl,
                          RenderSdl({.template_yaml = env.template_yaml,
                                     .service = env.config.service,
                                     .image = image,
                                     .env = ImageEnv(image)}));
  rendered_.Put(key, sdl);
  return sdl;
}

absl::Status DeployPipeline::AwaitRollout(Attempt& a,
                                          const ApplyResult& applied,
                                          bool expect_change) {
  DeploymentRecord& r = a.record;
  const absl::Time deadline = a.start + a.env.config.rollout_timeout;
  RolloutQuery query{.image = *ImageRef::Parse(r.image_ref)};
  query.environment = a.args.environment;
  query.target_ref = applied.target_ref;
  query.previous_revision = applied.previous_revision;
  query.expect_revision_change = expect_change;
  query.settings = a.env.config.settings;
  std::string detail = "no observation yet";
  while (true) {
    absl::StatusOr<RolloutStatus> status = a.env.target->CheckRollout(query);
    if (status.ok()) {
      detail = status->detail;
      if (!status->endpoints.empty()) r.endpoints = status->endpoints;
      if (status->done) break;
    } else if (!absl::IsUnavailable(status.status())) {
      return AsTargetFailure(status.status(), "rollout");
    } else {
      detail = std::string(status.status().message());
    }
    if (absl::Now() >= deadline) {
      return ShapinError(
          ErrorCode::kRolloutFailure,
          absl::StrCat("the new revision was not running after ",
                       absl::FormatDuration(a.env.config.rollout_timeout), ": ",
                       detail));
    }
    Sleep(options_.poll_interval);
  }

  // The application's own view: healthy, and reporting the deployed SHA.
  for (const auto& [url, want_sha] :
       {std::pair{a.env.config.health_url, false},
        std::pair{a.env.config.version_url, true}}) {
    if (url.empty()) continue;
    while (true) {
      absl::StatusOr<ProbeResponse> got = probe_.Get(url, absl::Seconds(5));
      if (got.ok() && got->status >= 200 && got->status < 300 &&
          (!want_sha || absl::StrContains(got->body, r.image_sha.str()))) {
        break;
      }
      detail = got.ok()
                   ? absl::StrCat(
                         url, " answered ", got->status,
                         want_sha ? absl::StrCat(" \"", got->body.substr(0, 80),
                                                 "\"")
                                  : "")
                   : std::string(got.status().message());
      if (absl::Now() >= deadline) {
        return ShapinError(
            ErrorCode::kRolloutFailure,
            absl::StrCat(want_sha ? "the application does not report "
                                  : "the application is not healthy ",
                         want_sha ? r.image_sha.str() : "",
                         " within the rollout timeout: ", detail));
      }
      Sleep(options_.poll_interval);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ResolvedImageInfo> DeployPipeline::Resolve(const GitSha& sha) {
  const std::string& repo = options_.canonical_repository;
  SHAPIN_ASSIGN_OR_RETURN(ImageFacts facts, store_.GetImageFacts(repo, sha));
  SHAPIN_ASSIGN_OR_RETURN(
      Digest digest,
      CheckImage(sha, DeploymentKind::kDeploy, std::nullopt, facts));
  ResolvedImageInfo info(digest);
  info.repository = repo;
  info.image_ref = PinnedRef(repo, sha, digest);
  info.recorded_digest = facts.canonical_digest;
  SHAPIN_ASSIGN_OR_RETURN(ImageRef pinned, ImageRef::Parse(info.image_ref));
  SHAPIN_ASSIGN_OR_RETURN(info.signature,
                          ApplySignaturePolicy(verifier_.Verify(pinned, sha),
                                               SignatureMode::kSoft));
  return info;
}

absl::StatusOr<HoldRecord> DeployPipeline::ReleaseHold(
    const std::string& environment, const std::string& requested_by) {
  SHAPIN_RETURN_IF_ERROR(FindEnvironment(environment).status());
  SHAPIN_ASSIGN_OR_RETURN(
      HoldRecord hold,
      store_.ReleaseHold(environment,
                         requested_by.empty() ? "an operator" : requested_by));
  LogInfo("hold_released",
          {{"environment", environment}, {"requested_by", requested_by}});
  return hold;
}

}  // namespace shapin::deploy
