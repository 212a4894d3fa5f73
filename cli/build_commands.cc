#include "cli/build_commands.h"

#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/event_queue.h"
#include "cli/exit_code.h"
#include "cli/list_paging.h"
#include "cli/progress_display.h"
#include "cli/relative_time.h"
#include "cli/table.h"
#include "shapin/v1/build.grpc.pb.h"

namespace shapin::cli {
namespace {

namespace v1 = ::shapin::v1;

std::string StateLabel(const v1::Build& b) {
  return EnumLabel(v1::BuildState_Name(b.state()), "BUILD_STATE_");
}

std::string OutcomeLabel(const v1::Build& b) {
  return EnumLabel(v1::BuildOutcome_Name(b.outcome()), "BUILD_OUTCOME_");
}

std::string RepoTypeLabel(v1::RepositoryType t) {
  return EnumLabel(v1::RepositoryType_Name(t), "REPOSITORY_TYPE_");
}

bool IsTerminal(const v1::Build& b) {
  return b.state() == v1::BUILD_STATE_SUCCEEDED ||
         b.state() == v1::BUILD_STATE_FAILED ||
         b.state() == v1::BUILD_STATE_CANCELED;
}

// Exit code of a build as a result: 0 unless it ended FAILED or CANCELED.
int ExitCodeOfBuild(const v1::Build& b) {
  if (b.state() == v1::BUILD_STATE_FAILED) {
    return ExitCodeForErrorName(b.error_code());
  }
  if (b.state() == v1::BUILD_STATE_CANCELED) return kExitCanceled;
  return kExitOk;
}

std::string Seconds(double s) {
  return s > 0 ? ShortDuration(absl::Seconds(s)) : "";
}

// Time since submission: to the end for a finished build, to now otherwise.
absl::Duration Elapsed(const v1::Build& b, absl::Time now) {
  absl::Time start = FromProto(b.created_at());
  if (start == absl::InfinitePast()) return absl::ZeroDuration();
  absl::Time end = FromProto(b.finished_at());
  return (end == absl::InfinitePast() ? now : end) - start;
}

void PrintBuild(CommandContext& ctx, const v1::Build& b, bool with_log_tail) {
  const absl::Time now = absl::Now();
  DetailList d;
  d.Add("build", b.build_id());
  d.Add("state", StateLabel(b), ColourForState(StateLabel(b)));
  d.Add("outcome", OutcomeLabel(b));
  d.Add("error", ErrorText(b.error_code(), b.error_message()), Colour::kRed);
  d.Add("git sha", b.git_sha());
  d.Add("branch", b.branch());
  d.Add("repository",
        b.repository().empty()
            ? ""
            : absl::StrCat(b.repository(), " (",
                           RepoTypeLabel(b.repository_type()), ")"));
  d.Add("image", b.image_ref(), Colour::kCyan);
  d.Add("tags", absl::StrJoin(b.tags(), ", "));
  d.Add("platform", b.platform());
  d.Add("digest check", b.digest_verification());
  d.Add("signature", b.signature_status());
  d.Add("submitted",
        b.created_at().seconds() == 0
            ? ""
            : absl::StrCat(
                  RelativeTime(FromProto(b.created_at()), now),
                  b.requested_by().empty() ? "" : " by " + b.requested_by()));
  d.Add("build time", Seconds(b.build_duration_seconds()));
  d.Add("push time", Seconds(b.push_duration_seconds()));
  ctx.out << d.Render(ctx.style);
  if (with_log_tail && b.state() == v1::BUILD_STATE_FAILED &&
      !b.log_tail().empty()) {
    ctx.out << ctx.style.Paint(Colour::kDim, "last builder output:") << "\n";
    for (absl::string_view line : absl::StrSplit(b.log_tail(), '\n')) {
      ctx.out << "  " << line << "\n";
    }
  }
  ctx.out.flush();
}

// Result of the build as the command's output and exit code.
int ReportBuild(CommandContext& ctx, const v1::Build& b, bool with_log_tail) {
  if (ctx.json()) {
    if (int rc = ctx.PrintJson(b); rc != kExitOk) return rc;
  } else {
    PrintBuild(ctx, b, with_log_tail);
  }
  return ExitCodeOfBuild(b);
}

absl::StatusOr<std::unique_ptr<v1::BuildService::Stub>> Stub(
    CommandContext& ctx) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ch = ctx.conn.build_channel();
  if (!ch.ok()) return ch.status();
  return v1::BuildService::NewStub(*ch);
}

// Streams WatchBuild until the build ends. Table mode: the live view, then
// the build's summary. JSON: each event as one line (`json_events`), or only
// the final build.
int Watch(CommandContext& ctx, v1::BuildService::Stub& stub,
          const std::string& build_id, bool json_events) {
  std::unique_ptr<grpc::ClientContext> call =
      ctx.conn.NewContext(absl::InfiniteDuration());
  v1::WatchBuildRequest request;
  request.set_build_id(build_id);
  EventQueue<v1::BuildEvent> queue;
  std::unique_ptr<grpc::ClientReader<v1::BuildEvent>> stream =
      stub.WatchBuild(call.get(), request);
  std::thread reader([&] {
    v1::BuildEvent e;
    while (stream->Read(&e)) queue.Push(e);
    queue.Close(stream->Finish());
  });
  ProgressDisplay view(ctx.out, ctx.live, ctx.style, /*tail_lines=*/6,
                       TerminalWidth(100));
  v1::Build last;
  bool seen = false;
  grpc::Status status;
  for (;;) {
    EventQueue<v1::BuildEvent>::Batch batch =
        queue.Wait(absl::Milliseconds(250));
    for (const v1::BuildEvent& e : batch.events) {
      last = e.build();
      seen = true;
      if (ctx.json()) {
        if (json_events) ctx.PrintJsonLine(e);
        continue;
      }
      std::vector<std::string> lines(e.log_lines().begin(),
                                     e.log_lines().end());
      view.Update(e.phase().empty() ? StateLabel(last) : e.phase(),
                  Elapsed(last, absl::Now()),
                  absl::StrCat("build ", last.build_id(), "  ",
                               ShortSha(last.git_sha()), "  ", last.branch()),
                  lines);
    }
    if (batch.closed) {
      status = batch.status;
      break;
    }
    if (seen && !ctx.json()) view.Tick(Elapsed(last, absl::Now()));
  }
  reader.join();
  if (!ctx.json()) view.Finish();
  if (!status.ok()) {
    return ctx.Fail("build watch", ctx.conn.settings().build_addr, status);
  }
  if (!seen || !IsTerminal(last)) {
    // The stream ended early (server shutting down): the last word is
    // GetBuild's.
    std::unique_ptr<grpc::ClientContext> get = ctx.conn.NewContext(ctx.timeout);
    v1::GetBuildRequest req;
    req.set_build_id(build_id);
    grpc::Status s = stub.GetBuild(get.get(), req, &last);
    if (!s.ok()) {
      return ctx.Fail("build get", ctx.conn.settings().build_addr, s);
    }
  }
  if (ctx.json() && json_events) return ExitCodeOfBuild(last);
  return ReportBuild(ctx, last, /*with_log_tail=*/true);
}

int RunSubmit(CommandContext& ctx) {
  absl::StatusOr<std::unique_ptr<v1::BuildService::Stub>> stub = Stub(ctx);
  if (!stub.ok()) return ctx.Fail("build submit", stub.status());
  const bool watch = ctx.inv.Bool("watch");
  const bool wait = ctx.inv.Bool("wait") && !watch;
  v1::SubmitBuildRequest request;
  request.set_git_sha(ctx.inv.Positional(0));
  request.set_branch(ctx.inv.Flag("branch", ""));
  request.set_source_url(ctx.inv.Flag("source", ""));
  request.set_dockerfile(ctx.inv.Flag("dockerfile", ""));
  request.set_context(ctx.inv.Flag("context", ""));
  request.set_rebuild(ctx.inv.Bool("rebuild"));
  request.set_wait(wait);
  request.set_requested_by(ctx.requested_by);
  std::unique_ptr<grpc::ClientContext> call =
      ctx.conn.NewContext(wait ? absl::InfiniteDuration() : ctx.timeout);
  v1::Build build;
  grpc::Status s = (*stub)->SubmitBuild(call.get(), request, &build);
  if (!s.ok()) {
    return ctx.Fail("build submit", ctx.conn.settings().build_addr, s);
  }
  if (!watch) return ReportBuild(ctx, build, /*with_log_tail=*/true);
  if (!ctx.json()) {
    ctx.out << "build " << build.build_id()
            << " queued: " << ShortSha(build.git_sha()) << " " << build.branch()
            << " -> " << build.repository() << "\n";
  }
  return Watch(ctx, **stub, build.build_id(), /*json_events=*/false);
}

int RunWatch(CommandContext& ctx) {
  absl::StatusOr<std::unique_ptr<v1::BuildService::Stub>> stub = Stub(ctx);
  if (!stub.ok()) return ctx.Fail("build watch", stub.status());
  return Watch(ctx, **stub, ctx.inv.Positional(0), /*json_events=*/true);
}

int RunGet(CommandContext& ctx) {
  absl::StatusOr<std::unique_ptr<v1::BuildService::Stub>> stub = Stub(ctx);
  if (!stub.ok()) return ctx.Fail("build get", stub.status());
  std::unique_ptr<grpc::ClientContext> call = ctx.conn.NewContext(ctx.timeout);
  v1::GetBuildRequest request;
  request.set_build_id(ctx.inv.Positional(0));
  v1::Build build;
  grpc::Status s = (*stub)->GetBuild(call.get(), request, &build);
  if (!s.ok()) return ctx.Fail("build get", ctx.conn.settings().build_addr, s);
  // A read: the build's own failure is not this command's.
  if (ctx.json()) return ctx.PrintJson(build);
  PrintBuild(ctx, build, /*with_log_tail=*/true);
  return kExitOk;
}

int RunList(CommandContext& ctx) {
  absl::StatusOr<ListPaging> paging = ListPaging::FromFlags(ctx.inv);
  if (!paging.ok()) return ctx.Fail("build list", paging.status());
  absl::StatusOr<std::unique_ptr<v1::BuildService::Stub>> stub = Stub(ctx);
  if (!stub.ok()) return ctx.Fail("build list", stub.status());
  v1::ListBuildsResponse all;
  std::string token = paging->first_token;
  do {
    v1::ListBuildsRequest request;
    request.set_git_sha(ctx.inv.Flag("sha", ""));
    request.set_branch(ctx.inv.Flag("branch", ""));
    request.set_page_size(paging->NextPageSize(all.builds_size()));
    request.set_page_token(token);
    std::unique_ptr<grpc::ClientContext> call =
        ctx.conn.NewContext(ctx.timeout);
    v1::ListBuildsResponse page;
    grpc::Status s = (*stub)->ListBuilds(call.get(), request, &page);
    if (!s.ok()) {
      return ctx.Fail("build list", ctx.conn.settings().build_addr, s);
    }
    for (v1::Build& b : *page.mutable_builds()) {
      *all.add_builds() = std::move(b);
    }
    token = page.next_page_token();
  } while (!token.empty() && paging->WantsMore(all.builds_size()));
  all.set_next_page_token(token);
  if (ctx.json()) return ctx.PrintJson(all);

  const absl::Time now = absl::Now();
  Table t({"ID", "STATE", "OUTCOME", "SHA", "BRANCH", "REPO", "SUBMITTED",
           "TOOK", "ERROR"});
  for (const v1::Build& b : all.builds()) {
    const std::string state = StateLabel(b);
    t.AddRow({{b.build_id()},
              {state, ColourForState(state)},
              {OutcomeLabel(b)},
              {ShortSha(b.git_sha())},
              {b.branch()},
              {RepoTypeLabel(b.repository_type())},
              {RelativeTime(FromProto(b.created_at()), now)},
              {IsTerminal(b) ? ShortDuration(Elapsed(b, now)) : ""},
              {b.error_code(), Colour::kRed}});
  }
  ctx.out << t.Render(ctx.style);
  PrintMoreHint(ctx, token);
  return kExitOk;
}

int RunAdopt(CommandContext& ctx) {
  for (const char* flag : {"digest", "reason"}) {
    if (ctx.inv.Flag(flag, "").empty()) {
      ctx.err << "shapin: image adopt: --" << flag
              << " is required (the digest you inspected, and why it is "
                 "trusted: both are recorded)\n";
      return kExitUsage;
    }
  }
  absl::StatusOr<std::unique_ptr<v1::BuildService::Stub>> stub = Stub(ctx);
  if (!stub.ok()) return ctx.Fail("image adopt", stub.status());
  v1::AdoptImageRequest request;
  request.set_git_sha(ctx.inv.Positional(0));
  request.set_repository_type(ctx.inv.Bool("staging")
                                  ? v1::REPOSITORY_TYPE_STAGING
                                  : v1::REPOSITORY_TYPE_CANONICAL);
  request.set_digest(ctx.inv.Flag("digest", ""));
  request.set_reason(ctx.inv.Flag("reason", ""));
  std::unique_ptr<grpc::ClientContext> call = ctx.conn.NewContext(ctx.timeout);
  v1::Image image;
  grpc::Status s = (*stub)->AdoptImage(call.get(), request, &image);
  if (!s.ok()) {
    return ctx.Fail("image adopt", ctx.conn.settings().build_addr, s);
  }
  if (ctx.json()) return ctx.PrintJson(image);
  ctx.out << "adopted " << image.image_ref() << " (origin " << image.origin()
          << ", not signed by build-svc)\n";
  return kExitOk;
}

}  // namespace

std::vector<Command> BuildCommands() {
  std::vector<FlagSpec> list_flags = ListPaging::Flags();
  list_flags.insert(list_flags.begin(),
                    {{.name = "sha",
                      .value_name = "SHA",
                      .help = "only builds of this commit"},
                     {.name = "branch",
                      .value_name = "BRANCH",
                      .help = "only builds of this branch"}});
  return {
      {.spec =
           {.name = "build submit",
            .positionals = {"SHA"},
            .flags = {{.name = "branch",
                       .value_name = "BRANCH",
                       .help = "branch the commit was pushed to (required; "
                               "protected branches publish to the canonical "
                               "repository)"},
                      {.name = "source",
                       .value_name = "URL",
                       .help = "git URL to fetch the commit from (default: "
                               "the server's)"},
                      {.name = "dockerfile",
                       .value_name = "PATH",
                       .help = "Dockerfile inside the context (default "
                               "Dockerfile)"},
                      {.name = "context",
                       .value_name = "DIR",
                       .help = "build context inside the repository (default "
                               ".)"},
                      {.name = "rebuild",
                       .help = "build even when the SHA tag exists, and "
                               "compare digests"},
                      {.name = "wait",
                       .help = "block until the build ends (no progress)"},
                      {.name = "watch",
                       .help = "follow the build live until it ends"},
                      {.name = "requested-by",
                       .value_name = "NAME",
                       .help = "who asks (default $USER)"}},
            .summary = "submit a build of a commit; exit code follows "
                       "its result with --wait/--watch"},
       .run = RunSubmit},
      {.spec = {.name = "build watch",
                .positionals = {"BUILD_ID"},
                .summary = "follow a build live (phases, elapsed, log tail) "
                           "until it ends"},
       .run = RunWatch},
      {.spec = {.name = "build get",
                .positionals = {"BUILD_ID"},
                .summary = "show one build"},
       .run = RunGet},
      {.spec = {.name = "build list",
                .flags = list_flags,
                .summary = "list builds, newest first"},
       .run = RunList},
      {.spec = {.name = "image adopt",
                .positionals = {"SHA"},
                .flags = {{.name = "digest",
                           .value_name = "SHA256",
                           .help = "the digest you inspected; the SHA tag must "
                                   "point at it (required)"},
                          {.name = "reason",
                           .value_name = "TEXT",
                           .help = "why the image is trusted (required, "
                                   "recorded in the image_adopted event)"},
                          {.name = "staging",
                           .help = "the staging repository's tag (default "
                                   "canonical)"}},
                .summary = "operator: trust a SHA tag build-svc did not "
                           "publish as the commit's image (audited)"},
       .run = RunAdopt},
  };
}

}  // namespace shapin::cli
