// in-toto attestation statements (v0.1 and v1) and the SLSA provenance
// predicates (v0.2 and v1) shapin reads and writes.
//
//   SHAPIN_ASSIGN_OR_RETURN(Statement st, ParseStatement(envelope.payload));
//   if (!CoversDigest(st, image_digest)) ...            // subject mismatch
//   if (IsSlsaProvenance(st.predicate_type)) {
//     SHAPIN_ASSIGN_OR_RETURN(ProvenanceFacts f, ExtractProvenance(st));
//     ... f.builder_id, f.source_commit ...
//   }
#ifndef SHAPIN_COMMON_SIGNATURE_IN_TOTO_H_
#define SHAPIN_COMMON_SIGNATURE_IN_TOTO_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/git_sha.h"
#include "nlohmann/json.hpp"

namespace shapin::signature {

inline constexpr absl::string_view kStatementV01 =
    "https://in-toto.io/Statement/v0.1";
inline constexpr absl::string_view kStatementV1 =
    "https://in-toto.io/Statement/v1";
inline constexpr absl::string_view kSlsaProvenanceV02 =
    "https://slsa.dev/provenance/v0.2";
inline constexpr absl::string_view kSlsaProvenanceV1 =
    "https://slsa.dev/provenance/v1";
// cosign v3 signs images as an in-toto statement of this predicate type.
inline constexpr absl::string_view kCosignSignPredicate =
    "https://sigstore.dev/cosign/sign/v1";

struct StatementSubject {
  std::string name;
  std::map<std::string, std::string> digest;  // algorithm -> hex
};

struct Statement {
  std::string type;  // kStatementV01 or kStatementV1
  std::vector<StatementSubject> subjects;
  std::string predicate_type;
  nlohmann::json predicate;  // an object (or null when absent)
};

// INVALID_ARGUMENT unless `bytes` is strict JSON with "_type" one of the two
// statement types, a non-empty "subject" array of objects whose "digest" is
// an object of strings, a string "predicateType", and "predicate" an object
// (or absent).
absl::StatusOr<Statement> ParseStatement(absl::string_view bytes);

// Some subject's sha256 equals `digest` (hex compared case-insensitively).
bool CoversDigest(const Statement& statement, const Digest& digest);

bool IsSlsaProvenance(absl::string_view predicate_type);

// What shapin checks in a provenance predicate.
struct ProvenanceFacts {
  std::string builder_id;
  std::string build_type;
  // The source: URI and git commit (lowercase) of v0.2's
  // invocation.configSource, else the first of materials[] /
  // resolvedDependencies[] whose digest has "gitCommit" or "sha1".
  std::string source_uri;
  std::optional<std::string> source_commit;
};

// INVALID_ARGUMENT when the predicate lacks a builder id or is not a SLSA
// v0.2 / v1 provenance.
absl::StatusOr<ProvenanceFacts> ExtractProvenance(const Statement& statement);

// What build-svc knows about a build, for its SLSA v1 provenance.
struct BuildProvenance {
  std::string subject_name;  // the repository, "ghcr.io/mconstant/app"
  Digest image_digest;
  std::string builder_id;
  std::string build_type;
  std::string source_url;
  std::string branch;
  GitSha commit;
  std::string dockerfile;
  // Base images (FROM lines) with the digests they resolved to.
  std::vector<std::pair<std::string, Digest>> base_images;
  std::string invocation_id;  // the build id
  absl::Time started_on;
  absl::Time finished_on;
};

// An in-toto v1 statement (JSON text) with an SLSA v1 provenance predicate:
// externalParameters {source: {url, branch, sha}, dockerfile},
// resolvedDependencies [git commit, base images], runDetails {builder.id,
// metadata {invocationId, startedOn, finishedOn}}.
std::string BuildSlsaV1Statement(const BuildProvenance& build);

// An in-toto v1 statement about one image with any predicate (SBOMs, …).
std::string BuildStatement(absl::string_view subject_name, const Digest& digest,
                           absl::string_view predicate_type,
                           const nlohmann::json& predicate);

}  // namespace shapin::signature

#endif  // SHAPIN_COMMON_SIGNATURE_IN_TOTO_H_
