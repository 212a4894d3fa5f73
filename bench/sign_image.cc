// bench/sign_image: benchmark fixture — makes a cosign key pair, or signs an
// image already in a registry with it (a `.sig` next to the image, as
// `cosign sign --key` does), so the preflight benchmark measures the
// verified-signature path even where build-svc does not sign.
//
//   bench/sign_image --new-key=DIR          writes DIR/cosign.key (private,
//                                           0600) and DIR/cosign.pub
//   bench/sign_image --key=DIR/cosign.key --image=127.0.0.1:5000/app:<tag>
//
// The registry is reached over plain HTTP (loopback). Prints the signed
// digest.
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "bench/bench_client.h"
#include "common/image_ref.h"
#include "common/log.h"
#include "common/registry/registry_client.h"
#include "common/signature/crypto.h"
#include "common/signature/signature_registry.h"
#include "common/signature/signer.h"

namespace shapin::bench {
namespace {

void WriteFile(const std::filesystem::path& p, const std::string& text,
               mode_t mode) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out || ::chmod(p.c_str(), mode) != 0) {
    std::fprintf(stderr, "cannot write %s\n", p.c_str());
    std::exit(1);
  }
}

int NewKey(const std::filesystem::path& dir) {
  absl::StatusOr<signature::PrivateKey> key =
      signature::PrivateKey::GenerateP256();
  CheckOk(key.status(), "generating a key");
  absl::StatusOr<std::string> pem = key->ToPem();
  CheckOk(pem.status(), "encoding the key");
  std::filesystem::create_directories(dir);
  WriteFile(dir / "cosign.key", *pem, 0600);
  WriteFile(dir / "cosign.pub", key->public_key().ToPem(), 0644);
  std::printf("%s\n", (dir / "cosign.pub").c_str());
  return 0;
}

int Sign(const std::string& key_file, const std::string& image) {
  std::ifstream in(key_file, std::ios::binary);
  std::stringstream pem;
  pem << in.rdbuf();
  absl::StatusOr<signature::PrivateKey> key =
      signature::PrivateKey::FromPem(pem.str());
  CheckOk(key.status(), absl::StrCat("reading ", key_file));
  absl::StatusOr<ImageRef> ref = ImageRef::Parse(image);
  CheckOk(ref.status(), "--image");

  registry::RegistryClientOptions o;
  absl::StatusOr<std::unique_ptr<registry::RegistryClient>> client =
      registry::RegistryClient::Create(o);
  CheckOk(client.status(), "registry client");
  absl::StatusOr<Digest> digest = (*client)->Resolve(*ref);
  CheckOk(digest.status(), absl::StrCat("resolving ", image));

  signature::Signer signer(*std::move(key));
  ImageRef repo = ref->repository_only();
  absl::StatusOr<signature::SignatureLayer> sig =
      signer.SignImage(repo.name(), *digest);
  CheckOk(sig.status(), "signing");
  signature::RegistrySignatureStore store(client->get());
  CheckOk(store.PublishSignature(repo, *digest, *sig).status(),
          "publishing the signature");
  std::printf("%s\n", digest->str().c_str());
  return 0;
}

int Main(int argc, char** argv) {
  Logger::Global().SetMinLevel(LogLevel::kWarning);
  std::string new_key, key, image;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (absl::ConsumePrefix(&a, "--new-key=")) {
      new_key = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--key=")) {
      key = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--image=")) {
      image = std::string(a);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (!new_key.empty()) return NewKey(new_key);
  if (key.empty() || image.empty()) {
    std::fprintf(stderr,
                 "usage: sign_image --new-key=DIR | --key=FILE --image=REF\n");
    return 2;
  }
  return Sign(key, image);
}

}  // namespace
}  // namespace shapin::bench

int main(int argc, char** argv) { return shapin::bench::Main(argc, argv); }
