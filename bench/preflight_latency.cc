// bench/preflight_latency: deploy-svc preflight latency on loopback —
// ResolveImage and Deploy(dry_run) for one signed image, sequential and with
// N concurrent clients (one thread and one channel each; several N for the
// growth table) — next to `skopeo inspect` of the same image in the same
// run; optionally build-svc's reads of the same image (GetImage, GetBuild).
//
//   set -a; . .stack/env; set +a
//   bench/preflight_latency --sha=<40 hex> --environment=local
//       [--sequential=200] [--clients=50[,10,200…]] [--calls=1000]
//       [--per-client=N] [--rpcs=resolve,dry_run[,get_image,get_build]]
//       [--skopeo-runs=5]
//       [--cpu-pids=deploy-svc=PID,postgres=PID,docker-registry=PID]
//
// Needs DEPLOY_ADDR and CANONICAL_REPOSITORY (the stack's env file), and
// BUILD_ADDR for the build-svc RPCs; sends SHAPIN_TOKEN as a bearer token
// when set. Fails when the image does not resolve as signed
// (signature_status "verified"), so the numbers are always those of the full
// verification path. Prints markdown rows, then the p99 of each RPC against
// the number of clients (one row per RPC, one column per --clients entry).
//
// A concurrent phase makes --calls calls in all (--per-client=N instead
// makes N per client), so every client count gets the same number of
// samples. With --cpu-pids, each phase's row is followed by the CPU time per
// call of this client and of each named process (with its children:
// PostgreSQL runs one backend per connection) over that phase, from /proc:
// latency with N closed-loop clients is N / throughput, and throughput is
// bounded by the CPU per call summed over the processes sharing the cores.
// --skopeo-runs=0 skips the skopeo baseline.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_client.h"
#include "bench/latency_stats.h"
#include "common/subprocess.h"
#include "shapin/v1/build.grpc.pb.h"
#include "shapin/v1/deploy.grpc.pb.h"

namespace shapin::bench {
namespace {

struct Flags {
  std::string sha;
  std::string environment = "local";
  int sequential = 200;
  std::vector<int> clients = {50};
  int calls = 1000;    // per concurrent phase, split among the clients
  int per_client = 0;  // > 0: calls per client instead
  std::vector<std::string> rpcs = {"resolve", "dry_run"};
  int skopeo_runs = 5;
  // (name, pid) whose CPU time per call is reported.
  std::vector<std::pair<std::string, int>> cpu_pids;
};

// "name=pid,name=pid"; exits with status 2 on a malformed entry.
std::vector<std::pair<std::string, int>> ParseCpuPids(const std::string& v) {
  std::vector<std::pair<std::string, int>> out;
  for (absl::string_view entry : absl::StrSplit(v, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(entry, absl::MaxSplits('=', 1));
    int pid = 0;
    if (kv.first.empty() || !absl::SimpleAtoi(kv.second, &pid) || pid <= 0) {
      std::fprintf(stderr, "bad --cpu-pids entry \"%s\"\n",
                   std::string(entry).c_str());
      std::exit(2);
    }
    out.emplace_back(kv.first, pid);
  }
  return out;
}

bool KnownRpc(absl::string_view rpc) {
  return rpc == "resolve" || rpc == "dry_run" || rpc == "get_image" ||
         rpc == "get_build";
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    auto str = [&](absl::string_view name, std::string* out) {
      std::string prefix = absl::StrCat("--", name, "=");
      if (!absl::StartsWith(a, prefix)) return false;
      *out = std::string(a.substr(prefix.size()));
      return true;
    };
    auto bad = [&] {
      std::fprintf(stderr, "bad value in %s\n", argv[i]);
      std::exit(2);
    };
    auto num = [&](absl::string_view name, int* out, int min = 1) {
      std::string v;
      if (!str(name, &v)) return false;
      if (!absl::SimpleAtoi(v, out) || *out < min) bad();
      return true;
    };
    if (str("sha", &f.sha) || str("environment", &f.environment) ||
        num("sequential", &f.sequential) || num("calls", &f.calls) ||
        num("per-client", &f.per_client) ||
        num("skopeo-runs", &f.skopeo_runs, 0)) {
      continue;
    }
    if (std::string list; str("clients", &list)) {
      f.clients.clear();
      for (absl::string_view n : absl::StrSplit(list, ',')) {
        int c = 0;
        if (!absl::SimpleAtoi(n, &c) || c < 1) bad();
        f.clients.push_back(c);
      }
      continue;
    }
    if (std::string list; str("rpcs", &list)) {
      f.rpcs = absl::StrSplit(list, ',');
      for (const std::string& rpc : f.rpcs) {
        if (!KnownRpc(rpc)) bad();
      }
      continue;
    }
    if (std::string pids; str("cpu-pids", &pids)) {
      f.cpu_pids = ParseCpuPids(pids);
      continue;
    }
    std::fprintf(stderr, "unknown flag %s\n", argv[i]);
    std::exit(2);
  }
  if (f.sha.size() != 40) {
    std::fprintf(stderr, "--sha=<40 hex> is required\n");
    std::exit(2);
  }
  return f;
}

// CPU seconds (user + system) used so far by `root` and every live process
// below it, from /proc/<pid>/stat. Children that exited are not counted
// (PostgreSQL's backends live as long as their pooled connections).
double TreeCpuSeconds(int root) {
  struct Proc {
    int ppid = 0;
    double cpu = 0;
  };
  static const double kTicks = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::map<int, Proc> procs;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    // A process may exit between the listing and the read (libstdc++'s
    // streams throw then): read(2), and skip what is gone.
    const int fd = open((entry.path() / "stat").c_str(), O_RDONLY);
    if (fd < 0) continue;
    char buf[1024];
    const ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) continue;
    const std::string stat(buf, static_cast<size_t>(n));
    // Fields after "(comm)": state ppid … utime (14th) stime (15th).
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 1));
    std::vector<std::string> f;
    for (std::string t; fields >> t && f.size() < 13;) f.push_back(t);
    Proc p;
    double utime = 0, stime = 0;
    if (f.size() < 13 || !absl::SimpleAtoi(f[1], &p.ppid) ||
        !absl::SimpleAtod(f[11], &utime) || !absl::SimpleAtod(f[12], &stime)) {
      continue;
    }
    p.cpu = (utime + stime) / kTicks;
    procs[pid] = p;
  }
  auto below = [&](int pid) {
    for (int hops = 0; pid > 1 && hops < 64; ++hops) {
      if (pid == root) return true;
      auto it = procs.find(pid);
      if (it == procs.end()) return false;
      pid = it->second.ppid;
    }
    return false;
  };
  double total = 0;
  for (const auto& [pid, p] : procs) {
    if (below(pid)) total += p.cpu;
  }
  return total;
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// CPU seconds of this client and of each --cpu-pids process, in that order.
std::vector<double> CpuSnapshot(const Flags& flags) {
  std::vector<double> out = {SelfCpuSeconds()};
  for (const auto& [name, pid] : flags.cpu_pids) {
    out.push_back(TreeCpuSeconds(pid));
  }
  return out;
}

// "client 0.41 + deploy-svc 1.20 + … = 3.10 ms per call (1.68 CPUs busy)".
std::string CpuPerCall(const Flags& flags, const std::vector<double>& before,
                       const std::vector<double>& after, size_t calls,
                       double seconds) {
  std::vector<std::string> names = {"client"};
  for (const auto& [name, pid] : flags.cpu_pids) names.push_back(name);
  std::string parts;
  double total = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    const double ms = (after[i] - before[i]) * 1000 / calls;
    total += ms;
    absl::StrAppend(&parts, i == 0 ? "" : " + ", names[i], " ",
                    absl::StrFormat("%.2f", ms));
  }
  return absl::StrCat(
      parts, absl::StrFormat(" = %.2f ms per call (%.2f CPUs busy)", total,
                             total * calls / 1000 / seconds));
}

// One client of the benchmark: its own channel, and stubs of both services.
struct Client {
  Client(const std::string& deploy_addr, const std::string& build_addr,
         int index)
      : deploy_channel(deploy_addr, index),
        deploy(v1::DeployService::NewStub(deploy_channel.channel())) {
    if (!build_addr.empty()) {
      build_channel = std::make_unique<BenchClient>(build_addr, index);
      build = v1::BuildService::NewStub(build_channel->channel());
    }
  }
  BenchClient deploy_channel;
  std::unique_ptr<v1::DeployService::Stub> deploy;
  std::unique_ptr<BenchClient> build_channel;
  std::unique_ptr<v1::BuildService::Stub> build;
};

// What the calls ask for, found once before the phases.
struct Subject {
  std::string sha;
  std::string environment;
  std::string build_id;  // of the build that published the image
};

// One call of `rpc` (see KnownRpc).
grpc::Status Call(Client& client, const Subject& subject,
                  const std::string& rpc) {
  grpc::ClientContext ctx;
  const BenchClient& channel = (rpc == "get_image" || rpc == "get_build")
                                   ? *client.build_channel
                                   : client.deploy_channel;
  channel.Prepare(ctx, absl::Seconds(30));
  if (rpc == "resolve") {
    v1::ResolveImageRequest req;
    req.set_image_sha(subject.sha);
    v1::ResolvedImage resp;
    return client.deploy->ResolveImage(&ctx, req, &resp);
  }
  if (rpc == "get_image") {
    v1::GetImageRequest req;
    req.set_git_sha(subject.sha);
    v1::Image resp;
    return client.build->GetImage(&ctx, req, &resp);
  }
  if (rpc == "get_build") {
    v1::GetBuildRequest req;
    req.set_build_id(subject.build_id);
    v1::Build resp;
    return client.build->GetBuild(&ctx, req, &resp);
  }
  v1::DeployRequest req;
  req.set_environment(subject.environment);
  req.set_image_sha(subject.sha);
  req.set_dry_run(true);
  req.set_requested_by("bench");
  v1::Deployment resp;
  return client.deploy->Deploy(&ctx, req, &resp);
}

std::string RpcName(const std::string& rpc) {
  if (rpc == "resolve") return "`ResolveImage`";
  if (rpc == "dry_run") return "`Deploy(dry_run)`";
  if (rpc == "get_image") return "build-svc `GetImage`";
  return "build-svc `GetBuild`";
}

struct PhaseResult {
  LatencyStats latency;
  double calls_per_second = 0;
  int failed = 0;
  std::string last_error;
  std::string cpu_per_call;  // empty without --cpu-pids
};

// `clients` threads, each with its own channel, all released at once, each
// making `per_client` calls after one warm-up call (five when alone).
PhaseResult RunPhase(const std::string& deploy_addr,
                     const std::string& build_addr, const Flags& flags,
                     const Subject& subject, const std::string& rpc,
                     int clients, int per_client) {
  std::vector<LatencyStats> per_thread(clients);
  std::vector<int> errors(clients, 0);
  std::vector<std::string> last_error(clients);
  std::vector<std::unique_ptr<Client>> conns;
  for (int i = 0; i < clients; ++i) {
    // A lone client uses the default channel, as a script would.
    conns.push_back(std::make_unique<Client>(deploy_addr, build_addr,
                                             clients == 1 ? 0 : i + 1));
    for (int w = 0; w < (clients == 1 ? 5 : 1); ++w) {
      CheckOk(Call(*conns.back(), subject, rpc), rpc);
    }
  }
  const std::vector<double> cpu_before = CpuSnapshot(flags);
  absl::Time start = absl::Now();
  auto run = [&](int t) {
    for (int i = 0; i < per_client; ++i) {
      absl::Time s0 = absl::Now();
      grpc::Status s = Call(*conns[t], subject, rpc);
      per_thread[t].Add(absl::Now() - s0);
      if (!s.ok()) {  // counted and reported, not fatal: see the summary
        ++errors[t];
        last_error[t] =
            absl::StrCat("code ", s.error_code(), ": ", s.error_message());
      }
    }
  };
  if (clients == 1) {
    run(0);
  } else {
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t) threads.emplace_back(run, t);
    for (std::thread& t : threads) t.join();
  }
  double secs = absl::ToDoubleSeconds(absl::Now() - start);
  const std::vector<double> cpu_after = CpuSnapshot(flags);
  PhaseResult r;
  for (const LatencyStats& s : per_thread) r.latency.Merge(s);
  if (!flags.cpu_pids.empty()) {
    r.cpu_per_call =
        CpuPerCall(flags, cpu_before, cpu_after, r.latency.count(), secs);
  }
  for (int t = 0; t < clients; ++t) {
    r.failed += errors[t];
    if (errors[t] > 0) r.last_error = last_error[t];
  }
  r.calls_per_second = static_cast<double>(r.latency.count()) / secs;
  return r;
}

LatencyStats SkopeoInspect(const std::string& image, int runs) {
  LatencyStats stats;
  for (int i = 0; i < runs; ++i) {
    SubprocessOptions so;
    so.argv = {"skopeo", "inspect", "--tls-verify=false",
               absl::StrCat("docker://", image)};
    so.env_allow = {"HOME", "TMPDIR", "PATH"};
    so.timeout = absl::Minutes(1);
    absl::Time start = absl::Now();
    absl::StatusOr<SubprocessResult> r = RunSubprocess(so);
    stats.Add(absl::Now() - start);
    CheckOk(r.status(), "skopeo inspect");
    CheckOk(r->CheckSuccess("skopeo inspect"), "skopeo inspect");
  }
  return stats;
}

int Main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  const std::string addr = RequiredEnv("DEPLOY_ADDR");
  const std::string repo = RequiredEnv("CANONICAL_REPOSITORY");
  bool build_rpcs = false;
  for (const std::string& rpc : flags.rpcs) {
    build_rpcs = build_rpcs || rpc == "get_image" || rpc == "get_build";
  }
  const std::string build_addr = build_rpcs ? RequiredEnv("BUILD_ADDR") : "";
  Subject subject{
      .sha = flags.sha, .environment = flags.environment, .build_id = ""};

  {  // The numbers only mean something for a verified image.
    Client client(addr, build_addr, 0);
    grpc::ClientContext ctx;
    client.deploy_channel.Prepare(ctx, absl::Seconds(30));
    v1::ResolveImageRequest req;
    req.set_image_sha(flags.sha);
    v1::ResolvedImage resp;
    CheckOk(client.deploy->ResolveImage(&ctx, req, &resp), "ResolveImage");
    if (resp.signature_status() != "verified") {
      std::fprintf(stderr,
                   "image %s resolves with signature_status=%s (%s), not "
                   "verified: configure deploy.signature.public_key_files\n",
                   resp.image_ref().c_str(), resp.signature_status().c_str(),
                   resp.signature_reason().c_str());
      return 1;
    }
    std::printf("image: %s (signature verified, digest_check %s)\n",
                resp.image_ref().c_str(), resp.digest_check().c_str());
    if (build_rpcs) {
      grpc::ClientContext bctx;
      client.build_channel->Prepare(bctx, absl::Seconds(30));
      v1::GetImageRequest ireq;
      ireq.set_git_sha(flags.sha);
      v1::Image image;
      CheckOk(client.build->GetImage(&bctx, ireq, &image), "GetImage");
      subject.build_id = image.build_id();
    }
  }

  // p99 (calls/s) per RPC and client count, for the growth table.
  std::map<std::string, std::map<int, std::string>> growth;
  std::vector<int> columns = {1};
  for (int c : flags.clients) {
    if (c != 1) columns.push_back(c);
  }
  std::printf("| metric | target | measured | load avg |\n|---|---|---|---|\n");
  for (const std::string& rpc : flags.rpcs) {
    const std::string name = RpcName(rpc);
    const bool preflight = rpc == "resolve" || rpc == "dry_run";
    for (int clients : columns) {
      const bool alone = clients == 1;
      const int per_client =
          alone ? flags.sequential
          : flags.per_client > 0
              ? flags.per_client
              : std::max(1, (flags.calls + clients - 1) / clients);
      PhaseResult r =
          RunPhase(addr, build_addr, flags, subject, rpc, clients, per_client);
      const std::string failures =
          r.failed == 0
              ? ""
              : absl::StrCat(", **", r.failed, " of ", r.latency.count(),
                             " failed** (last: ", r.last_error, ")");
      const char* target = !preflight      ? "—"
                           : alone         ? "p95 ≤ 25 ms"
                           : clients == 50 ? "p99 ≤ 100 ms"
                                           : "— (growth)";
      const std::string label =
          alone ? absl::StrCat(name, " sequential")
                : absl::StrCat(name, ", ", clients, " concurrent clients");
      std::printf("| %s | %s | %s, %.0f calls/s%s | %s |\n", label.c_str(),
                  target, r.latency.Summary().c_str(), r.calls_per_second,
                  failures.c_str(), LoadAverage().c_str());
      if (!r.cpu_per_call.empty()) {
        std::printf("| %s, %d client%s: CPU per call | — | %s | %s |\n",
                    name.c_str(), clients, alone ? "" : "s",
                    r.cpu_per_call.c_str(), LoadAverage().c_str());
      }
      std::fflush(stdout);
      growth[rpc][clients] = absl::StrFormat(
          "%.1f ms (%.0f/s)", r.latency.PercentileMs(99), r.calls_per_second);
    }
  }
  if (flags.skopeo_runs > 0) {
    LatencyStats sk =
        SkopeoInspect(absl::StrCat(repo, ":", flags.sha), flags.skopeo_runs);
    std::printf(
        "| `skopeo inspect` of the same image (one process each) | "
        "baseline | %s | %s |\n",
        sk.Summary().c_str(), LoadAverage().c_str());
  }
  if (columns.size() > 1) {
    std::printf("\n| p99 (calls/s) vs clients |");
    for (int c : columns) std::printf(" %d |", c);
    std::printf("\n|---|");
    for (size_t i = 0; i < columns.size(); ++i) std::printf("---|");
    std::printf("\n");
    for (const std::string& rpc : flags.rpcs) {
      std::printf("| %s |", RpcName(rpc).c_str());
      for (int c : columns) std::printf(" %s |", growth[rpc][c].c_str());
      std::printf("\n");
    }
  }
  return 0;
}

}  // namespace
}  // namespace shapin::bench

int main(int argc, char** argv) { return shapin::bench::Main(argc, argv); }
