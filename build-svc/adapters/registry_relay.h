// RegistryRelay: a registry endpoint on loopback for one build's push. The
// builder pushes to it as to any registry (`buildah push …
// docker://127.0.0.1:<port>/<token>/image:build`); the relay passes every
// blob on to the target repository as it arrives — hashed while it is sent
// in chunks, committed there only under the digest its bytes hash to — and
// the manifest by digest, after checking that every blob it names is there.
// Nothing is ever tagged: tags stay the pipeline's step, after Finish has
// read the manifest back from the registry and verified it.
//
// This replaces "write an OCI layout, then read it back and push it": the
// image is compressed once, straight into the upload, and never lands on
// disk. Memory: one pool of upload buffers per relay (8 × 4 MiB, see
// registry::ChunkPool) shared by every blob in flight, whatever the image
// size or layer count; each blob's next chunk is received while the last one
// is sent.
//
//   SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<RegistryRelay> relay,
//                           RegistryRelay::Start(client, repository));
//   // buildah push … docker://<relay->reference()>, digest D
//   SHAPIN_ASSIGN_OR_RETURN(StreamedImage image, relay->Finish(D));
#ifndef SHAPIN_BUILD_SVC_ADAPTERS_REGISTRY_RELAY_H_
#define SHAPIN_BUILD_SVC_ADAPTERS_REGISTRY_RELAY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "build-svc/image_publisher.h"
#include "common/digest.h"
#include "common/image_ref.h"
#include "common/registry/chunk_pool.h"
#include "common/registry/registry_client.h"

struct mg_connection;
struct mg_context;

namespace shapin::build {

class RegistryRelay : public ImageStream {
 public:
  // Listens on 127.0.0.1 on a free port. `client` must outlive the relay.
  static absl::StatusOr<std::unique_ptr<RegistryRelay>> Start(
      registry::RegistryClient& client, const ImageRef& repository);
  // Stops listening; uploads still open are canceled.
  ~RegistryRelay() override;

  // "127.0.0.1:<port>"
  std::string host() const;
  // Where the builder pushes: host/<random token>/image:build (the token
  // keeps other local processes from guessing the repository name).
  std::string reference() const override;

  // After the builder's push of `digest`: the manifest re-read from the
  // target repository by digest and verified. The first relay error when
  // one happened (UNAVAILABLE, DIGEST_MISMATCH, ...); FAILED_PRECONDITION
  // when no manifest with that digest came through.
  absl::StatusOr<StreamedImage> Finish(const Digest& digest) override;

  // The first error relaying to the registry, OK when none.
  absl::Status status() const override;

 private:
  struct Upload;
  struct Pushed {
    std::string bytes;
    std::string media_type;
  };
  RegistryRelay(registry::RegistryClient& client, ImageRef repository,
                std::string token);

  static int HandleRequest(mg_connection* conn, void* self);
  int Handle(mg_connection* conn);
  int StartUpload(mg_connection* conn);
  int ContinueUpload(mg_connection* conn, const std::string& id, bool commit);
  int HeadBlob(mg_connection* conn, const std::string& digest);
  int PutManifest(mg_connection* conn, const std::string& reference);
  void Fail(const absl::Status& s);
  // Stops listening and waits for the handlers to return; idempotent.
  void Stop();

  registry::RegistryClient& client_;
  const ImageRef repository_;
  const std::string name_;  // "<token>/image"
  mg_context* ctx_ = nullptr;
  int port_ = 0;
  registry::ChunkPool pool_;

  mutable absl::Mutex mu_;
  int64_t next_upload_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, std::shared_ptr<Upload>> uploads_
      ABSL_GUARDED_BY(mu_);
  // Blobs committed in the target repository through this relay.
  absl::flat_hash_map<std::string, uint64_t> blobs_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Pushed> manifests_ ABSL_GUARDED_BY(mu_);
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_ADAPTERS_REGISTRY_RELAY_H_
