#include "cli/deploy_commands.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/deployment_phase.h"
#include "cli/event_queue.h"
#include "cli/exit_code.h"
#include "cli/list_paging.h"
#include "cli/progress_display.h"
#include "cli/relative_time.h"
#include "cli/table.h"
#include "shapin/v1/deploy.grpc.pb.h"

namespace shapin::cli {
namespace {

namespace v1 = ::shapin::v1;
using Stub = v1::DeployService::Stub;

std::string StateLabel(const v1::Deployment& d) {
  return EnumLabel(v1::DeploymentState_Name(d.state()), "DEPLOYMENT_STATE_");
}

std::string KindLabel(const v1::Deployment& d) {
  return EnumLabel(v1::DeploymentKind_Name(d.kind()), "DEPLOYMENT_KIND_");
}

// --env, else SHAPIN_ENV, else `fallback`.
std::string Environment(const CommandContext& ctx, absl::string_view fallback) {
  if (ctx.inv.Has("env")) return ctx.inv.Flag("env", "");
  std::optional<std::string> env = EnvVar("SHAPIN_ENV");
  return env && !env->empty() ? *env : std::string(fallback);
}

int64_t NumericId(absl::string_view id) {
  int64_t n = 0;
  return absl::SimpleAtoi(id, &n) ? n : 0;
}

absl::StatusOr<std::unique_ptr<Stub>> NewStub(CommandContext& ctx) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ch = ctx.conn.deploy_channel();
  if (!ch.ok()) return ch.status();
  return v1::DeployService::NewStub(*ch);
}

int Fail(CommandContext& ctx, absl::string_view what, const grpc::Status& s) {
  int rc = ctx.Fail(what, ctx.conn.settings().deploy_addr, s);
  if (rc == kExitOnHold) {
    ctx.err << "hint: shapin release-hold --env "
            << Environment(ctx, kDefaultEnvironment)
            << " when the fix is ready, or deploy with --override-hold\n";
  }
  return rc;
}

std::string Signature(const v1::Deployment& d) {
  if (d.signature_status().empty()) return "";
  if (d.signature_reason().empty()) return d.signature_status();
  return absl::StrCat(d.signature_status(), " (", d.signature_reason(), ")");
}

void PrintDeployment(CommandContext& ctx, const v1::Deployment& d) {
  const absl::Time now = absl::Now();
  DetailList l;
  l.Add("deployment", d.deployment_id());
  l.Add("environment", d.environment());
  l.Add("kind", KindLabel(d));
  l.Add("state", StateLabel(d), ColourForState(StateLabel(d)));
  l.Add("error", ErrorText(d.error_code(), d.error_message()), Colour::kRed);
  l.Add("git sha", d.image_sha());
  l.Add("image", d.image_ref(), Colour::kCyan);
  l.Add("previous", d.previous_sha());
  l.Add("signature", Signature(d));
  l.Add("provenance", d.provenance_status());
  l.Add("target", JoinNonEmpty({d.target(), d.target_ref()}));
  l.Add("endpoints", absl::StrJoin(d.endpoints(), ", "));
  l.Add("requested",
        d.created_at().seconds() == 0
            ? ""
            : absl::StrCat(
                  RelativeTime(FromProto(d.created_at()), now),
                  d.requested_by().empty() ? "" : " by " + d.requested_by()));
  l.Add("reason", d.reason());
  l.Add("took", d.duration_seconds() > 0
                    ? ShortDuration(absl::Seconds(d.duration_seconds()))
                    : "");
  l.Add("dry run", d.dry_run() ? "yes (nothing applied)" : "");
  ctx.out << l.Render(ctx.style);
}

// Polls the environment's newest deployment for the live view while the
// Deploy/Rollback call blocks: the first one newer than `baseline_id` and
// matching `sha` (any SHA when empty) is ours.
class DeploymentTracker {
 public:
  DeploymentTracker(CommandContext& ctx, Stub& stub, std::string environment,
                    std::string sha)
      : ctx_(ctx),
        stub_(stub),
        environment_(std::move(environment)),
        sha_(std::move(sha)) {}

  // The newest deployment id in the environment now (0 if none or unknown).
  void TakeBaseline() {
    std::optional<v1::Deployment> newest = Newest();
    baseline_id_ = newest ? NumericId(newest->deployment_id()) : 0;
  }

  int64_t baseline_id() const { return baseline_id_; }

  // The tracked deployment's latest record; nullopt until it shows up. Poll
  // errors (e.g. a token without the viewer role) only cost the live view.
  std::optional<v1::Deployment> Poll() {
    if (id_.empty()) {
      std::optional<v1::Deployment> newest = Newest();
      if (!newest || NumericId(newest->deployment_id()) <= baseline_id_ ||
          (!sha_.empty() && newest->image_sha() != sha_)) {
        return std::nullopt;
      }
      id_ = newest->deployment_id();
      return newest;
    }
    std::unique_ptr<grpc::ClientContext> call =
        ctx_.conn.NewContext(absl::Seconds(5));
    v1::GetDeploymentRequest request;
    request.set_deployment_id(id_);
    v1::Deployment d;
    if (!stub_.GetDeployment(call.get(), request, &d).ok()) return std::nullopt;
    return d;
  }

 private:
  std::optional<v1::Deployment> Newest() {
    std::unique_ptr<grpc::ClientContext> call =
        ctx_.conn.NewContext(absl::Seconds(5));
    v1::ListDeploymentsRequest request;
    request.set_environment(environment_);
    request.set_page_size(1);
    v1::ListDeploymentsResponse reply;
    if (!stub_.ListDeployments(call.get(), request, &reply).ok() ||
        reply.deployments().empty()) {
      return std::nullopt;
    }
    return reply.deployments(0);
  }

  CommandContext& ctx_;
  Stub& stub_;
  const std::string environment_;
  const std::string sha_;
  int64_t baseline_id_ = 0;
  std::string id_;
};

using DeploymentCall =
    std::function<grpc::Status(grpc::ClientContext*, v1::Deployment*)>;

// Runs a Deploy or Rollback call (no deadline: it lasts until the rollout is
// checked) while showing its progress, then prints the result.
int RunDeploymentCall(CommandContext& ctx, Stub& stub, absl::string_view what,
                      const std::string& environment, const std::string& sha,
                      const DeploymentCall& rpc) {
  DeploymentTracker tracker(ctx, stub, environment, sha);
  const bool show_progress = !ctx.json();
  if (show_progress) tracker.TakeBaseline();

  EventQueue<v1::Deployment> queue;
  std::unique_ptr<grpc::ClientContext> call =
      ctx.conn.NewContext(absl::InfiniteDuration());
  std::thread worker([&] {
    v1::Deployment reply;
    grpc::Status s = rpc(call.get(), &reply);
    if (s.ok()) queue.Push(reply);
    queue.Close(s);
  });

  ProgressDisplay view(ctx.out, ctx.live, ctx.style, /*tail_lines=*/0,
                       TerminalWidth(100));
  const absl::Time start = absl::Now();
  std::string detail = absl::StrCat(what, " ", environment,
                                    sha.empty() ? "" : "  ", ShortSha(sha));
  std::optional<v1::Deployment> reply;
  grpc::Status status;
  if (show_progress) {
    view.Update("requesting", absl::ZeroDuration(), detail, {});
  }
  for (;;) {
    // The reply may come in a batch before the one that closes the queue.
    EventQueue<v1::Deployment>::Batch batch =
        queue.Wait(absl::Milliseconds(500));
    if (!batch.events.empty()) reply = batch.events.back();
    if (batch.closed) {
      status = batch.status;
      break;
    }
    if (!show_progress) continue;
    if (std::optional<v1::Deployment> d = tracker.Poll()) {
      detail = absl::StrCat("deployment ", d->deployment_id(), "  ",
                            environment, "  ", ShortSha(d->image_sha()));
      view.Update(DeploymentPhase(*d), absl::Now() - start, detail, {});
    }
    view.Tick(absl::Now() - start);
  }
  worker.join();
  if (show_progress) view.Finish();
  if (!status.ok()) return Fail(ctx, what, status);
  if (!reply) {
    ctx.err << "shapin: " << what << ": no reply\n";
    return kExitFailure;
  }
  const v1::Deployment& d = *reply;
  if (ctx.json()) return ctx.PrintJson(d);

  const bool noop =
      !d.dry_run() && NumericId(d.deployment_id()) <= tracker.baseline_id();
  std::string headline;
  if (d.dry_run()) {
    headline = absl::StrCat("rendered ", ShortSha(d.image_sha()), " for ",
                            d.environment(), " (dry run: nothing applied)");
  } else if (noop) {
    headline =
        absl::StrCat(ShortSha(d.image_sha()), " is already current in ",
                     d.environment(), ": nothing applied (--force redeploys)");
  } else if (d.kind() == v1::DEPLOYMENT_KIND_ROLLBACK) {
    headline = absl::StrCat("rolled back ", d.environment(), " to ",
                            ShortSha(d.image_sha()), " in ",
                            ShortDuration(absl::Now() - start),
                            "; the environment is held");
  } else {
    headline = absl::StrCat("deployed ", ShortSha(d.image_sha()), " to ",
                            d.environment(), " in ",
                            ShortDuration(absl::Now() - start));
  }
  ctx.out << ctx.style.Paint(Colour::kGreen, headline) << "\n";
  PrintDeployment(ctx, d);
  if (d.dry_run()) {
    ctx.out << ctx.style.Paint(Colour::kDim, "rendered manifest:") << "\n"
            << d.rendered_manifest();
    if (!d.rendered_manifest().empty() &&
        d.rendered_manifest().back() != '\n') {
      ctx.out << "\n";
    }
  }
  ctx.out.flush();
  return kExitOk;
}

int RunDeploy(CommandContext& ctx) {
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub(ctx);
  if (!stub.ok()) return ctx.Fail("deploy", stub.status());
  v1::DeployRequest request;
  request.set_environment(Environment(ctx, kDefaultEnvironment));
  request.set_image_sha(ctx.inv.Positional(0));
  request.set_requested_by(ctx.requested_by);
  request.set_dry_run(ctx.inv.Bool("dry-run"));
  request.set_override_hold(ctx.inv.Bool("override-hold"));
  request.set_force(ctx.inv.Bool("force"));
  Stub& s = **stub;
  return RunDeploymentCall(
      ctx, s, "deploy", request.environment(), request.image_sha(),
      [&](grpc::ClientContext* call, v1::Deployment* reply) {
        return s.Deploy(call, request, reply);
      });
}

int RunRollback(CommandContext& ctx) {
  if (ctx.inv.Flag("reason", "").empty()) {
    ctx.err << "shapin: rollback: --reason is required (it is recorded in "
               "history)\n";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub(ctx);
  if (!stub.ok()) return ctx.Fail("rollback", stub.status());
  v1::RollbackRequest request;
  request.set_environment(Environment(ctx, kDefaultEnvironment));
  request.set_image_sha(ctx.inv.Positional(0));
  request.set_reason(ctx.inv.Flag("reason", ""));
  request.set_requested_by(ctx.requested_by);
  Stub& s = **stub;
  return RunDeploymentCall(
      ctx, s, "rollback", request.environment(), request.image_sha(),
      [&](grpc::ClientContext* call, v1::Deployment* reply) {
        return s.Rollback(call, request, reply);
      });
}

int RunHistory(CommandContext& ctx) {
  absl::StatusOr<ListPaging> paging = ListPaging::FromFlags(ctx.inv);
  if (!paging.ok()) return ctx.Fail("history", paging.status());
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub(ctx);
  if (!stub.ok()) return ctx.Fail("history", stub.status());
  const std::string environment = Environment(ctx, "");
  v1::ListDeploymentsResponse all;
  std::string token = paging->first_token;
  do {
    v1::ListDeploymentsRequest request;
    request.set_environment(environment);
    request.set_page_size(paging->NextPageSize(all.deployments_size()));
    request.set_page_token(token);
    std::unique_ptr<grpc::ClientContext> call =
        ctx.conn.NewContext(ctx.timeout);
    v1::ListDeploymentsResponse page;
    grpc::Status s = (*stub)->ListDeployments(call.get(), request, &page);
    if (!s.ok()) return Fail(ctx, "history", s);
    for (v1::Deployment& d : *page.mutable_deployments()) {
      *all.add_deployments() = std::move(d);
    }
    token = page.next_page_token();
  } while (!token.empty() && paging->WantsMore(all.deployments_size()));
  all.set_next_page_token(token);
  if (ctx.json()) return ctx.PrintJson(all);

  const bool wide = ctx.inv.Bool("wide");
  std::vector<std::string> headers = {"ID",   "ENV",      "KIND",      "STATE",
                                      "SHA",  "PREVIOUS", "SIGNATURE", "BY",
                                      "WHEN", "TOOK",     "ERROR"};
  if (wide) {
    headers.push_back("REASON");
    headers.push_back("IMAGE");
  }
  Table t(headers);
  const absl::Time now = absl::Now();
  for (const v1::Deployment& d : all.deployments()) {
    const std::string state = StateLabel(d);
    std::string kind = KindLabel(d);
    if (d.dry_run()) kind += " (dry run)";
    std::vector<TableCell> row = {
        {d.deployment_id()},
        {d.environment()},
        {kind},
        {state, ColourForState(state)},
        {ShortSha(d.image_sha())},
        {ShortSha(d.previous_sha())},
        {d.signature_status()},
        {d.requested_by()},
        {RelativeTime(FromProto(d.created_at()), now)},
        {d.duration_seconds() > 0
             ? ShortDuration(absl::Seconds(d.duration_seconds()))
             : ""},
        {d.error_code(), Colour::kRed}};
    if (wide) {
      row.push_back({d.reason()});
      row.push_back({d.image_ref()});
    }
    t.AddRow(std::move(row));
  }
  if (t.rows() == 0) {
    ctx.out << "no deployments"
            << (environment.empty() ? "" : absl::StrCat(" in ", environment))
            << "\n";
    return kExitOk;
  }
  ctx.out << t.Render(ctx.style);
  PrintMoreHint(ctx, token);
  return kExitOk;
}

int RunCurrent(CommandContext& ctx) {
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub(ctx);
  if (!stub.ok()) return ctx.Fail("current", stub.status());
  v1::GetCurrentRequest request;
  request.set_environment(Environment(ctx, kDefaultEnvironment));
  std::unique_ptr<grpc::ClientContext> call = ctx.conn.NewContext(ctx.timeout);
  v1::Deployment d;
  grpc::Status s = (*stub)->GetCurrent(call.get(), request, &d);
  if (!s.ok()) return Fail(ctx, "current", s);
  if (ctx.json()) return ctx.PrintJson(d);
  PrintDeployment(ctx, d);
  return kExitOk;
}

int RunTargets(CommandContext& ctx) {
  absl::StatusOr<int> limit = ctx.inv.Int("limit", 20, 1, 200);
  if (!limit.ok()) return ctx.Fail("targets", limit.status());
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub(ctx);
  if (!stub.ok()) return ctx.Fail("targets", stub.status());
  v1::ListRollbackTargetsRequest request;
  request.set_environment(Environment(ctx, kDefaultEnvironment));
  request.set_page_size(*limit);
  std::unique_ptr<grpc::ClientContext> call = ctx.conn.NewContext(ctx.timeout);
  v1::ListRollbackTargetsResponse reply;
  grpc::Status s = (*stub)->ListRollbackTargets(call.get(), request, &reply);
  if (!s.ok()) return Fail(ctx, "targets", s);
  if (ctx.json()) return ctx.PrintJson(reply);
  if (reply.targets().empty()) {
    ctx.out << "no rollback targets for " << request.environment() << "\n";
    return kExitOk;
  }
  const absl::Time now = absl::Now();
  Table t({"SHA", "DIGEST", "BUILT", "LAST DEPLOYED", "SIGNATURE", "CURRENT"});
  for (const v1::RollbackTarget& r : reply.targets()) {
    t.AddRow({{r.git_sha(), r.current() ? Colour::kGreen : Colour::kNone},
              {r.digest().substr(0, 19)},
              {RelativeTime(FromProto(r.built_at()), now)},
              {RelativeTime(FromProto(r.last_deployed_at()), now)},
              {r.signature_status()},
              {r.current() ? "*" : ""}});
  }
  ctx.out << t.Render(ctx.style);
  return kExitOk;
}

int RunResolve(CommandContext& ctx) {
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub(ctx);
  if (!stub.ok()) return ctx.Fail("resolve", stub.status());
  v1::ResolveImageRequest request;
  request.set_image_sha(ctx.inv.Positional(0));
  std::unique_ptr<grpc::ClientContext> call = ctx.conn.NewContext(ctx.timeout);
  v1::ResolvedImage r;
  grpc::Status s = (*stub)->ResolveImage(call.get(), request, &r);
  if (!s.ok()) return Fail(ctx, "resolve", s);
  if (ctx.json()) return ctx.PrintJson(r);
  DetailList l;
  l.Add("git sha", r.git_sha());
  l.Add("repository", r.repository());
  l.Add("digest", r.digest());
  l.Add("image", r.image_ref(), Colour::kCyan);
  l.Add("recorded", r.recorded_digest());
  l.Add("digest check", r.digest_check(),
        r.digest_check() == "ok" ? Colour::kGreen : Colour::kYellow);
  l.Add("signature", r.signature_reason().empty()
                         ? r.signature_status()
                         : absl::StrCat(r.signature_status(), " (",
                                        r.signature_reason(), ")"));
  l.Add("provenance", r.provenance_status());
  ctx.out << l.Render(ctx.style);
  return kExitOk;
}

int RunReleaseHold(CommandContext& ctx) {
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub(ctx);
  if (!stub.ok()) return ctx.Fail("release-hold", stub.status());
  v1::ReleaseHoldRequest request;
  request.set_environment(Environment(ctx, kDefaultEnvironment));
  request.set_requested_by(ctx.requested_by);
  std::unique_ptr<grpc::ClientContext> call = ctx.conn.NewContext(ctx.timeout);
  v1::Hold h;
  grpc::Status s = (*stub)->ReleaseHold(call.get(), request, &h);
  if (!s.ok()) return Fail(ctx, "release-hold", s);
  if (ctx.json()) return ctx.PrintJson(h);
  const absl::Time now = absl::Now();
  ctx.out << (h.held() ? ctx.style.Paint(
                             Colour::kYellow,
                             absl::StrCat(h.environment(), " is still held"))
                       : ctx.style.Paint(Colour::kGreen,
                                         absl::StrCat("released the hold on ",
                                                      h.environment())))
          << "\n";
  DetailList l;
  l.Add("set by",
        h.deployment_id().empty()
            ? ""
            : absl::StrCat("rollback ", h.deployment_id(),
                           h.held_by().empty() ? "" : " by " + h.held_by()));
  l.Add("held since", h.held_since().seconds() == 0
                          ? ""
                          : RelativeTime(FromProto(h.held_since()), now));
  l.Add("released by", h.released_by());
  ctx.out << l.Render(ctx.style);
  return kExitOk;
}

FlagSpec EnvFlag() {
  return {.name = "env",
          .value_name = "ENV",
          .help = absl::StrCat("environment (default $SHAPIN_ENV, else ",
                               kDefaultEnvironment, ")")};
}

FlagSpec RequestedByFlag() {
  return {.name = "requested-by",
          .value_name = "NAME",
          .help = "who asks, recorded in history (default $USER)"};
}

}  // namespace

std::vector<Command> DeployCommands() {
  std::vector<FlagSpec> history_flags = ListPaging::Flags();
  history_flags.insert(
      history_flags.begin(),
      {.name = "env",
       .value_name = "ENV",
       .help = "one environment (default $SHAPIN_ENV, else all)"});
  history_flags.push_back(
      {.name = "wide", .help = "also the reason and the pinned image"});
  return {
      {.spec = {.name = "deploy",
                .positionals = {"SHA"},
                .flags = {EnvFlag(),
                          {.name = "dry-run",
                           .help = "resolve and render only; print the "
                                   "manifest, apply nothing"},
                          {.name = "override-hold",
                           .help = "deploy although the environment is held "
                                   "after a rollback (operator)"},
                          {.name = "force",
                           .help = "redeploy even when the SHA is current"},
                          RequestedByFlag()},
                .summary = "deploy a commit's image by SHA, following the "
                           "rollout live"},
       .run = RunDeploy},
      {.spec = {.name = "rollback",
                .positionals = {"[SHA]"},
                .flags = {EnvFlag(),
                          {.name = "reason",
                           .value_name = "TEXT",
                           .help = "why (required, recorded in history)"},
                          RequestedByFlag()},
                .summary = "redeploy a prior SHA (default: the previous "
                           "successful one) and hold the environment"},
       .run = RunRollback},
      {.spec = {.name = "history",
                .flags = history_flags,
                .summary = "deployment history, newest first"},
       .run = RunHistory},
      {.spec = {.name = "current",
                .flags = {EnvFlag()},
                .summary = "the environment's current deployment"},
       .run = RunCurrent},
      {.spec = {.name = "targets",
                .flags = {EnvFlag(),
                          {.name = "limit",
                           .value_name = "N",
                           .help = "at most N (default 20, at most 200)"}},
                .summary = "SHAs the environment can be rolled back to"},
       .run = RunTargets},
      {.spec = {.name = "resolve",
                .positionals = {"SHA"},
                .summary = "preflight: SHA -> digest in the canonical "
                           "repository, digest check, signature (no side "
                           "effects)"},
       .run = RunResolve},
      {.spec = {.name = "release-hold",
                .flags = {EnvFlag(), RequestedByFlag()},
                .summary = "release the hold a rollback set, so deploys "
                           "proceed again"},
       .run = RunReleaseHold},
  };
}

}  // namespace shapin::cli
