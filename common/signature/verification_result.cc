#include "common/signature/verification_result.h"

#include "absl/strings/string_view.h"

namespace shapin::signature {

absl::string_view ReasonName(Reason reason) {
  switch (reason) {
    case Reason::kVerified:
      return "verified";
    case Reason::kNoSignature:
      return "no_signature";
    case Reason::kKeyMismatch:
      return "key_mismatch";
    case Reason::kDigestMismatch:
      return "digest_mismatch";
    case Reason::kUntrustedIdentity:
      return "untrusted_identity";
    case Reason::kInvalidBundle:
      return "invalid_bundle";
    case Reason::kInvalidSignature:
      return "invalid_signature";
    case Reason::kInvalidPayload:
      return "invalid_payload";
    case Reason::kNotConfigured:
      return "not_configured";
  }
  return "unknown";
}

absl::string_view ProvenanceStatusName(ProvenanceStatus status) {
  switch (status) {
    case ProvenanceStatus::kVerified:
      return "verified";
    case ProvenanceStatus::kMissing:
      return "missing";
    case ProvenanceStatus::kBuilderNotAllowed:
      return "builder_not_allowed";
    case ProvenanceStatus::kCommitMismatch:
      return "commit_mismatch";
    case ProvenanceStatus::kSubjectMismatch:
      return "subject_mismatch";
    case ProvenanceStatus::kUntrusted:
      return "untrusted";
    case ProvenanceStatus::kInvalid:
      return "invalid";
    case ProvenanceStatus::kNotConfigured:
      return "not_configured";
  }
  return "unknown";
}

}  // namespace shapin::signature
