// bench/registry_push: how fast the registry client pushes an image, next to
// `skopeo copy` of the same OCI layout to the same kind of registry, in the
// same run. Also reports OpenSSL EVP SHA-256 throughput (the client hashes
// every byte it sends or receives).
//
//   build-registry/bench/registry_push [--size-mib=200] [--layers=5]
//       [--runs=3] [--parallel=4] [--chunk-mib=16]
//
// Each run starts fresh docker-registry (distribution 2.8) processes on
// loopback, so no tool finds blobs already there: shapin pushes the layout
// to A and copies A -> B; skopeo copies the layout to C and A -> D. Then
// both push the layout again to A and C, where every blob is already present
// (existence checks and the manifest only). Prints one
// line per run and a summary table (MB/s = 10^6 bytes per second, medians over
// runs).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/image_ref.h"
#include "common/log.h"
#include "common/registry/registry_client.h"
#include "common/registry/sha256_hasher.h"
#include "common/registry/testing/oci_layout_builder.h"
#include "common/registry/testing/registry_server.h"
#include "common/subprocess.h"

namespace shapin::registry {
namespace {

using testing::OciLayoutBuilder;
using testing::RegistryServer;
using testing::TempDir;

struct Flags {
  int size_mib = 200;
  int layers = 5;
  int runs = 3;
  int parallel = 4;
  int chunk_mib = 16;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    auto take = [&](absl::string_view name, int* out) {
      std::string prefix = absl::StrCat("--", name, "=");
      if (!absl::StartsWith(a, prefix)) return false;
      if (!absl::SimpleAtoi(a.substr(prefix.size()), out) || *out <= 0) {
        std::fprintf(stderr, "bad value in %s\n", argv[i]);
        std::exit(2);
      }
      return true;
    };
    if (take("size-mib", &f.size_mib) || take("layers", &f.layers) ||
        take("runs", &f.runs) || take("parallel", &f.parallel) ||
        take("chunk-mib", &f.chunk_mib)) {
      continue;
    }
    std::fprintf(stderr, "unknown flag %s\n", argv[i]);
    std::exit(2);
  }
  return f;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void Check(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

// Sha256Hasher over an in-memory buffer: MB/s.
double HashThroughput() {
  std::string buf(64 << 20, '\0');
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<char>(i * 131);
  Sha256Hasher h;
  absl::Time start = absl::Now();
  int rounds = 8;
  for (int r = 0; r < rounds; ++r) {
    for (size_t off = 0; off < buf.size(); off += 1 << 20) {
      h.Update(absl::string_view(buf).substr(off, 1 << 20));
    }
  }
  (void)h.Finish();
  double secs = absl::ToDoubleSeconds(absl::Now() - start);
  return static_cast<double>(buf.size()) * rounds / secs / 1e6;
}

int Main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  Logger::Global().SetMinLevel(LogLevel::kWarning);

  absl::StatusOr<TempDir> dir = TempDir::Create("shapin-bench");
  Check(dir.status(), "temp dir");
  std::filesystem::path layout = dir->path() / "layout";
  absl::StatusOr<OciLayoutBuilder> b = OciLayoutBuilder::Create(layout);
  Check(b.status(), "layout");
  std::vector<Descriptor> layers;
  uint64_t total = 0;
  uint64_t per_layer = (uint64_t{static_cast<uint64_t>(flags.size_mib)} << 20) /
                       static_cast<uint64_t>(flags.layers);
  for (int i = 0; i < flags.layers; ++i) {
    // Uneven sizes, like real images (one big layer, smaller ones).
    uint64_t size = per_layer * (flags.layers - i) * 2 / (flags.layers + 1);
    absl::StatusOr<Descriptor> l = b->AddRandomBlob(size, 4242 + i);
    Check(l.status(), "layer");
    layers.push_back(*l);
    total += size;
  }
  absl::StatusOr<Descriptor> manifest = b->AddImage(layers);
  Check(manifest.status(), "manifest");
  Check(b->WriteIndex({*manifest}), "index.json");
  std::printf("image: %d layers, %.1f MB, manifest %s\n", flags.layers,
              static_cast<double>(total) / 1e6, manifest->digest.str().c_str());

  auto start_registry = [] {
    absl::StatusOr<std::unique_ptr<RegistryServer>> reg =
        RegistryServer::Start();
    Check(reg.status(), "registry");
    return std::move(*reg);
  };
  auto skopeo_copy = [&](const std::string& src, const std::string& dst) {
    SubprocessOptions so;
    so.argv = {"skopeo",
               "copy",
               "--quiet",
               "--src-tls-verify=false",
               "--dest-tls-verify=false",
               src,
               dst};
    so.env_allow = {"HOME", "TMPDIR"};
    so.timeout = absl::Minutes(10);
    absl::Time start = absl::Now();
    absl::StatusOr<SubprocessResult> r = RunSubprocess(so);
    double secs = absl::ToDoubleSeconds(absl::Now() - start);
    Check(r.status(), "skopeo");
    Check(r->CheckSuccess("skopeo copy"), "skopeo copy");
    return secs;
  };
  auto mbps = [&](double secs) {
    return static_cast<double>(total) / secs / 1e6;
  };

  std::vector<double> push, copy, skopeo_push, skopeo_xcopy;
  std::vector<double> warm_push, warm_skopeo;  // seconds
  for (int run = 0; run < flags.runs; ++run) {
    std::unique_ptr<RegistryServer> a = start_registry();
    std::unique_ptr<RegistryServer> b2 = start_registry();
    RegistryClientOptions o;
    o.max_parallel_blobs = flags.parallel;
    o.chunk_size_bytes = uint64_t{static_cast<uint64_t>(flags.chunk_mib)} << 20;
    o.temp_dir = dir->path();
    absl::StatusOr<std::unique_ptr<RegistryClient>> client =
        RegistryClient::Create(o);
    Check(client.status(), "client");
    Check((*client)->Ping(a->host()), "ping");
    Check((*client)->Ping(b2->host()), "ping");
    absl::StatusOr<ImageRef> src =
        ImageRef::Parse(absl::StrCat(a->host(), "/bench/app:v1"));
    absl::StatusOr<ImageRef> dst =
        ImageRef::Parse(absl::StrCat(b2->host(), "/bench/app:v1"));
    Check(src.status(), "ref");
    Check(dst.status(), "ref");

    absl::Time start = absl::Now();
    absl::StatusOr<PushResult> r =
        (*client)->PushOciLayout(layout, src->repository_only(), {"v1"});
    double secs = absl::ToDoubleSeconds(absl::Now() - start);
    Check(r.status(), "push");
    push.push_back(mbps(secs));
    std::printf(
        "run %d shapin push oci layout -> registry: %.2f s, %.1f MB/s\n",
        run + 1, secs, push.back());

    start = absl::Now();
    Check((*client)->Copy(*src, *dst).status(), "copy");
    secs = absl::ToDoubleSeconds(absl::Now() - start);
    copy.push_back(mbps(secs));
    std::printf("run %d shapin copy registry -> registry: %.2f s, %.1f MB/s\n",
                run + 1, secs, copy.back());

    std::unique_ptr<RegistryServer> c = start_registry();
    secs = skopeo_copy(absl::StrCat("oci:", layout.string()),
                       absl::StrCat("docker://", c->host(), "/bench/app:v1"));
    skopeo_push.push_back(mbps(secs));
    std::printf(
        "run %d skopeo copy oci layout -> registry: %.2f s, %.1f MB/s\n",
        run + 1, secs, skopeo_push.back());

    // Blobs already present: the same image again to the same registries;
    // only existence checks and the manifest go over the wire.
    start = absl::Now();
    Check((*client)
              ->PushOciLayout(layout, src->repository_only(), {"v1"})
              .status(),
          "warm push");
    secs = absl::ToDoubleSeconds(absl::Now() - start);
    warm_push.push_back(secs);
    double sk_secs =
        skopeo_copy(absl::StrCat("oci:", layout.string()),
                    absl::StrCat("docker://", c->host(), "/bench/app:v1"));
    warm_skopeo.push_back(sk_secs);
    std::printf(
        "run %d blobs present: shapin push %.3f s, skopeo copy %.3f s\n",
        run + 1, secs, sk_secs);

    std::unique_ptr<RegistryServer> d = start_registry();
    secs = skopeo_copy(absl::StrCat("docker://", a->host(), "/bench/app:v1"),
                       absl::StrCat("docker://", d->host(), "/bench/app:v1"));
    skopeo_xcopy.push_back(mbps(secs));
    std::printf("run %d skopeo copy registry -> registry: %.2f s, %.1f MB/s\n",
                run + 1, secs, skopeo_xcopy.back());
  }
  double hash = HashThroughput();
  double p = Median(push), sp = Median(skopeo_push);
  double cp = Median(copy), sc = Median(skopeo_xcopy);
  std::printf(
      "\n| metric (%.0f MB image, median of %d) | measured |\n|---|---|\n",
      static_cast<double>(total) / 1e6, flags.runs);
  std::printf("| shapin push, OCI layout -> registry | %.1f MB/s |\n", p);
  std::printf("| skopeo copy oci: -> docker:// | %.1f MB/s |\n", sp);
  std::printf("| push ratio shapin / skopeo | %.2fx |\n", sp > 0 ? p / sp : 0);
  std::printf("| shapin copy, registry -> registry | %.1f MB/s |\n", cp);
  std::printf("| skopeo copy docker:// -> docker:// | %.1f MB/s |\n", sc);
  std::printf("| copy ratio shapin / skopeo | %.2fx |\n", sc > 0 ? cp / sc : 0);
  double wp = Median(warm_push), ws = Median(warm_skopeo);
  std::printf("| shapin push, blobs already present | %.3f s |\n", wp);
  std::printf(
      "| skopeo copy oci: -> docker://, blobs already present | "
      "%.3f s |\n",
      ws);
  std::printf("| blobs-present ratio shapin / skopeo (time⁻¹) | %.2fx |\n",
              wp > 0 ? ws / wp : 0);
  std::printf(
      "| OpenSSL EVP SHA-256 (Sha256Hasher, 1 MiB updates) | %.0f MB/s |\n",
      hash);
  return 0;
}

}  // namespace
}  // namespace shapin::registry

int main(int argc, char** argv) { return shapin::registry::Main(argc, argv); }
