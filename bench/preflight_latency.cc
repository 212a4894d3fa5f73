// bench/preflight_latency: deploy-svc preflight latency on loopback —
// ResolveImage and Deploy(dry_run) for one signed image, sequential and with
// N concurrent clients (one thread and one channel each) — next to
// `skopeo inspect` of the same image in the same run.
//
//   set -a; . .stack/env; set +a
//   bench/preflight_latency --sha=<40 hex> --environment=local
//       [--sequential=200] [--clients=50] [--per-client=20] [--skopeo-runs=5]
//       [--cpu-pids=deploy-svc=PID,postgres=PID,docker-registry=PID]
//
// Needs DEPLOY_ADDR and CANONICAL_REPOSITORY (the stack's env file); sends
// SHAPIN_TOKEN as a bearer token when set. Fails when the image does not
// resolve as signed (signature_status "verified"), so the numbers are always
// those of the full verification path. Prints markdown rows.
//
// With --cpu-pids, each concurrent row is followed by the CPU time per call
// of this client and of each named process (with its children: PostgreSQL
// runs one backend per connection) over that phase, from /proc: latency with
// N closed-loop clients is N / throughput, and throughput is bounded by the
// CPU per call summed over the processes sharing the cores.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
#include "shapin/v1/deploy.grpc.pb.h"

namespace shapin::bench {
namespace {

struct Flags {
  std::string sha;
  std::string environment = "local";
  int sequential = 200;
  int clients = 50;
  int per_client = 20;
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
    auto num = [&](absl::string_view name, int* out) {
      std::string v;
      if (!str(name, &v)) return false;
      if (!absl::SimpleAtoi(v, out) || *out <= 0) {
        std::fprintf(stderr, "bad value in %s\n", argv[i]);
        std::exit(2);
      }
      return true;
    };
    if (str("sha", &f.sha) || str("environment", &f.environment) ||
        num("sequential", &f.sequential) || num("clients", &f.clients) ||
        num("per-client", &f.per_client) ||
        num("skopeo-runs", &f.skopeo_runs)) {
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
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
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

// One preflight call; `which` is "resolve" or "dry_run".
grpc::Status Call(const BenchClient& client, v1::DeployService::Stub& stub,
                  const Flags& flags, const std::string& which) {
  grpc::ClientContext ctx;
  client.Prepare(ctx, absl::Seconds(30));
  if (which == "resolve") {
    v1::ResolveImageRequest req;
    req.set_image_sha(flags.sha);
    v1::ResolvedImage resp;
    return stub.ResolveImage(&ctx, req, &resp);
  }
  v1::DeployRequest req;
  req.set_environment(flags.environment);
  req.set_image_sha(flags.sha);
  req.set_dry_run(true);
  req.set_requested_by("bench");
  v1::Deployment resp;
  return stub.Deploy(&ctx, req, &resp);
}

LatencyStats Sequential(const std::string& addr, const Flags& flags,
                        const std::string& which) {
  BenchClient client(addr);
  auto stub = v1::DeployService::NewStub(client.channel());
  for (int i = 0; i < 5; ++i) {  // warm-up: connection, pools, caches
    CheckOk(Call(client, *stub, flags, which), which);
  }
  LatencyStats stats;
  for (int i = 0; i < flags.sequential; ++i) {
    absl::Time start = absl::Now();
    grpc::Status s = Call(client, *stub, flags, which);
    stats.Add(absl::Now() - start);
    CheckOk(s, which);
  }
  return stats;
}

// `flags.clients` threads, each with its own channel, all released at once.
LatencyStats Concurrent(const std::string& addr, const Flags& flags,
                        const std::string& which, double* calls_per_second,
                        int* failed, std::string* error,
                        std::string* cpu_per_call) {
  std::vector<LatencyStats> per_thread(flags.clients);
  std::vector<int> errors(flags.clients, 0);
  std::vector<std::string> last_error(flags.clients);
  std::vector<std::unique_ptr<BenchClient>> clients;
  std::vector<std::unique_ptr<v1::DeployService::Stub>> stubs;
  for (int i = 0; i < flags.clients; ++i) {
    clients.push_back(std::make_unique<BenchClient>(addr, i + 1));
    stubs.push_back(v1::DeployService::NewStub(clients.back()->channel()));
    CheckOk(Call(*clients.back(), *stubs.back(), flags, which), which);
  }
  const std::vector<double> cpu_before = CpuSnapshot(flags);
  absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < flags.clients; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < flags.per_client; ++i) {
        absl::Time s0 = absl::Now();
        grpc::Status s = Call(*clients[t], *stubs[t], flags, which);
        per_thread[t].Add(absl::Now() - s0);
        if (!s.ok()) {  // counted and reported, not fatal: see the summary
          ++errors[t];
          last_error[t] =
              absl::StrCat("code ", s.error_code(), ": ", s.error_message());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  double secs = absl::ToDoubleSeconds(absl::Now() - start);
  const std::vector<double> cpu_after = CpuSnapshot(flags);
  LatencyStats all;
  for (const LatencyStats& s : per_thread) all.Merge(s);
  *cpu_per_call = CpuPerCall(flags, cpu_before, cpu_after, all.count(), secs);
  *failed = 0;
  for (int t = 0; t < flags.clients; ++t) {
    *failed += errors[t];
    if (errors[t] > 0) *error = last_error[t];
  }
  *calls_per_second = static_cast<double>(all.count()) / secs;
  return all;
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

  {  // The numbers only mean something for a verified image.
    BenchClient client(addr);
    auto stub = v1::DeployService::NewStub(client.channel());
    grpc::ClientContext ctx;
    client.Prepare(ctx, absl::Seconds(30));
    v1::ResolveImageRequest req;
    req.set_image_sha(flags.sha);
    v1::ResolvedImage resp;
    CheckOk(stub->ResolveImage(&ctx, req, &resp), "ResolveImage");
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
  }

  std::printf("| metric | target | measured | load avg |\n|---|---|---|---|\n");
  for (const std::string which : {"resolve", "dry_run"}) {
    const std::string name =
        which == "resolve" ? "`ResolveImage`" : "`Deploy(dry_run)`";
    LatencyStats seq = Sequential(addr, flags, which);
    std::printf("| %s sequential | p95 ≤ 25 ms | %s | %s |\n", name.c_str(),
                seq.Summary().c_str(), LoadAverage().c_str());
    std::fflush(stdout);
    double rate = 0;
    int failed = 0;
    std::string error;
    std::string cpu;
    LatencyStats conc =
        Concurrent(addr, flags, which, &rate, &failed, &error, &cpu);
    const std::string failures =
        failed == 0 ? ""
                    : absl::StrCat(", **", failed, " of ", conc.count(),
                                   " failed** (last: ", error, ")");
    std::printf(
        "| %s, %d concurrent clients | p99 ≤ 100 ms | %s, %.0f calls/s%s "
        "| %s |\n",
        name.c_str(), flags.clients, conc.Summary().c_str(), rate,
        failures.c_str(), LoadAverage().c_str());
    std::printf("| %s, %d clients: CPU per call | — | %s | %s |\n",
                name.c_str(), flags.clients, cpu.c_str(),
                LoadAverage().c_str());
    std::fflush(stdout);
  }
  LatencyStats sk =
      SkopeoInspect(absl::StrCat(repo, ":", flags.sha), flags.skopeo_runs);
  std::printf(
      "| `skopeo inspect` of the same image (one process each) | "
      "baseline | %s | %s |\n",
      sk.Summary().c_str(), LoadAverage().c_str());
  return 0;
}

}  // namespace
}  // namespace shapin::bench

int main(int argc, char** argv) { return shapin::bench::Main(argc, argv); }
