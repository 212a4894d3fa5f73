#include "common/signature/in_toto.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/signature/strict_json.h"

namespace shapin::signature {
namespace {

using Json = nlohmann::json;

absl::Status StatementError(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("in-toto statement: ", what));
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// The git commit recorded in a digest set ("gitCommit", else "sha1").
std::optional<std::string> GitCommitOf(const Json* digest) {
  if (digest == nullptr) return std::nullopt;
  for (const char* key : {"gitCommit", "sha1"}) {
    if (const std::string* v = FindString(*digest, key); v != nullptr) {
      return absl::AsciiStrToLower(*v);
    }
  }
  return std::nullopt;
}

// The first entry of `list` whose digest names a git commit.
bool FirstGitSource(const Json* list, ProvenanceFacts& facts) {
  if (list == nullptr) return false;
  for (const Json& entry : *list) {
    std::optional<std::string> commit =
        GitCommitOf(FindObject(entry, "digest"));
    if (!commit.has_value()) continue;
    facts.source_commit = commit;
    if (const std::string* uri = FindString(entry, "uri"); uri != nullptr) {
      facts.source_uri = *uri;
    }
    return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<Statement> ParseStatement(absl::string_view bytes) {
  absl::StatusOr<Json> doc = ParseStrictJson(bytes);
  if (!doc.ok()) return StatementError(doc.status().message());
  if (!doc->is_object()) return StatementError("not a JSON object");
  Statement out;
  const std::string* type = FindString(*doc, "_type");
  if (type == nullptr) return StatementError("no string _type");
  if (*type != kStatementV01 && *type != kStatementV1) {
    return StatementError(absl::StrCat("unsupported _type ", *type));
  }
  out.type = *type;
  const Json* subjects = FindArray(*doc, "subject");
  if (subjects == nullptr || subjects->empty()) {
    return StatementError("no subject");
  }
  for (size_t i = 0; i < subjects->size(); ++i) {
    const Json& s = (*subjects)[i];
    const Json* digest = FindObject(s, "digest");
    if (digest == nullptr) {
      return StatementError(absl::StrCat("subject[", i, "] has no digest"));
    }
    StatementSubject subject;
    if (const std::string* name = FindString(s, "name"); name != nullptr) {
      subject.name = *name;
    }
    for (auto it = digest->begin(); it != digest->end(); ++it) {
      if (!it.value().is_string()) {
        return StatementError(absl::StrCat("subject[", i, "].digest.", it.key(),
                                           " is not a string"));
      }
      subject.digest[it.key()] = it.value().get<std::string>();
    }
    out.subjects.push_back(std::move(subject));
  }
  const std::string* predicate_type = FindString(*doc, "predicateType");
  if (predicate_type == nullptr) {
    return StatementError("no string predicateType");
  }
  out.predicate_type = *predicate_type;
  if (const Json* predicate = FindMember(*doc, "predicate");
      predicate != nullptr) {
    if (!predicate->is_object()) {
      return StatementError("predicate is not an object");
    }
    out.predicate = *predicate;
  }
  return out;
}

bool CoversDigest(const Statement& statement, const Digest& digest) {
  for (const StatementSubject& s : statement.subjects) {
    auto it = s.digest.find("sha256");
    if (it != s.digest.end() &&
        absl::AsciiStrToLower(it->second) == digest.hex()) {
      return true;
    }
  }
  return false;
}

bool IsSlsaProvenance(absl::string_view predicate_type) {
  return predicate_type == kSlsaProvenanceV02 ||
         predicate_type == kSlsaProvenanceV1;
}

absl::StatusOr<ProvenanceFacts> ExtractProvenance(const Statement& statement) {
  ProvenanceFacts facts;
  const Json& p = statement.predicate;
  if (statement.predicate_type == kSlsaProvenanceV02) {
    const Json* builder = FindObject(p, "builder");
    const std::string* id =
        builder == nullptr ? nullptr : FindString(*builder, "id");
    if (id == nullptr || id->empty()) {
      return StatementError("SLSA v0.2 provenance without builder.id");
    }
    facts.builder_id = *id;
    if (const std::string* t = FindString(p, "buildType"); t != nullptr) {
      facts.build_type = *t;
    }
    const Json* invocation = FindObject(p, "invocation");
    const Json* config_source = invocation == nullptr
                                    ? nullptr
                                    : FindObject(*invocation, "configSource");
    if (config_source != nullptr) {
      std::optional<std::string> commit =
          GitCommitOf(FindObject(*config_source, "digest"));
      if (commit.has_value()) {
        facts.source_commit = commit;
        if (const std::string* uri = FindString(*config_source, "uri");
            uri != nullptr) {
          facts.source_uri = *uri;
        }
        return facts;
      }
    }
    FirstGitSource(FindArray(p, "materials"), facts);
    return facts;
  }
  if (statement.predicate_type == kSlsaProvenanceV1) {
    const Json* run = FindObject(p, "runDetails");
    const Json* builder =
        run == nullptr ? nullptr : FindObject(*run, "builder");
    const std::string* id =
        builder == nullptr ? nullptr : FindString(*builder, "id");
    if (id == nullptr || id->empty()) {
      return StatementError("SLSA v1 provenance without runDetails.builder.id");
    }
    facts.builder_id = *id;
    const Json* definition = FindObject(p, "buildDefinition");
    if (definition == nullptr) {
      return StatementError("SLSA v1 provenance without buildDefinition");
    }
    if (const std::string* t = FindString(*definition, "buildType");
        t != nullptr) {
      facts.build_type = *t;
    }
    FirstGitSource(FindArray(*definition, "resolvedDependencies"), facts);
    return facts;
  }
  return StatementError(absl::StrCat(
      "predicate type ", statement.predicate_type, " is not SLSA provenance"));
}

std::string BuildStatement(absl::string_view subject_name, const Digest& digest,
                           absl::string_view predicate_type,
                           const Json& predicate) {
  Json statement = {
      {"_type", std::string(kStatementV1)},
      {"subject",
       Json::array({{{"name", std::string(subject_name)},
                     {"digest", {{"sha256", std::string(digest.hex())}}}}})},
      {"predicateType", std::string(predicate_type)},
      {"predicate", predicate},
  };
  return statement.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string BuildSlsaV1Statement(const BuildProvenance& build) {
  std::string git_uri = absl::StrCat("git+", build.source_url);
  if (!build.branch.empty()) {
    absl::StrAppend(&git_uri, "@refs/heads/", build.branch);
  }
  Json dependencies = Json::array();
  dependencies.push_back(
      {{"uri", git_uri}, {"digest", {{"gitCommit", build.commit.str()}}}});
  for (const auto& [ref, digest] : build.base_images) {
    dependencies.push_back(
        {{"uri", ref}, {"digest", {{"sha256", std::string(digest.hex())}}}});
  }
  Json predicate = {
      {"buildDefinition",
       {{"buildType", build.build_type},
        {"externalParameters",
         {{"source",
           {{"url", build.source_url},
            {"branch", build.branch},
            {"sha", build.commit.str()}}},
          {"dockerfile", build.dockerfile}}},
        {"internalParameters", Json::object()},
        {"resolvedDependencies", dependencies}}},
      {"runDetails",
       {{"builder", {{"id", build.builder_id}}},
        {"metadata",
         {{"invocationId", build.invocation_id},
          {"startedOn", Rfc3339(build.started_on)},
          {"finishedOn", Rfc3339(build.finished_on)}}}}},
  };
  return BuildStatement(build.subject_name, build.image_digest,
                        kSlsaProvenanceV1, predicate);
}

}  // namespace shapin::signature
