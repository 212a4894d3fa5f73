#include "common/signature/test_fixtures.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/signature/crypto.h"
#include "common/signature/strict_json.h"
#include "common/status_macros.h"

namespace shapin::signature::testing {
namespace {

namespace fs = std::filesystem;

constexpr absl::string_view kSigstoreJsonHeader("\0sigstore-json\n", 15);

bool LooksLikeStub(absl::string_view content) {
  absl::string_view trimmed = absl::StripTrailingAsciiWhitespace(content);
  return !trimmed.empty() && trimmed.size() < 256 &&
         !absl::StrContains(trimmed, '\n') && trimmed[0] != '\0' &&
         trimmed[0] != '{' && trimmed[0] != '-' &&
         absl::StrContains(trimmed, '/');
}

}  // namespace

std::string CosignFixtureDir() {
  return absl::StrCat(SHAPIN_INTEROP_DIR, "/cosign-containers-image");
}

absl::StatusOr<std::string> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool IsSymlinkStub(absl::string_view relative) {
  absl::StatusOr<std::string> bytes =
      ReadFileBytes(absl::StrCat(CosignFixtureDir(), "/", relative));
  return bytes.ok() && LooksLikeStub(*bytes);
}

absl::StatusOr<std::string> ReadInteropFile(absl::string_view relative) {
  fs::path path = fs::path(CosignFixtureDir()) / std::string(relative);
  for (int hops = 0; hops < 4; ++hops) {
    SHAPIN_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path.string()));
    if (!LooksLikeStub(bytes)) return bytes;
    fs::path target = (path.parent_path() /
                       std::string(absl::StripTrailingAsciiWhitespace(bytes)))
                          .lexically_normal();
    if (!fs::exists(target)) {
      return absl::NotFoundError(
          absl::StrCat(path.string(), " is a symlink stub to ", target.string(),
                       ", which is not there"));
    }
    path = target;
  }
  return absl::FailedPreconditionError("symlink stubs nest too deep");
}

absl::StatusOr<SignatureLayer> ParseSigstoreJsonSignature(
    absl::string_view bytes) {
  if (!absl::ConsumePrefix(&bytes, kSigstoreJsonHeader)) {
    return absl::InvalidArgumentError("no sigstore-json header");
  }
  SHAPIN_ASSIGN_OR_RETURN(nlohmann::json doc, ParseStrictJson(bytes));
  const std::string* mime = FindString(doc, "mimeType");
  const std::string* payload = FindString(doc, "payload");
  if (mime == nullptr || payload == nullptr) {
    return absl::InvalidArgumentError("no mimeType / payload");
  }
  SignatureLayer layer;
  layer.media_type = *mime;
  SHAPIN_ASSIGN_OR_RETURN(layer.payload, Base64Decode(*payload));
  if (const nlohmann::json* a = FindObject(doc, "annotations"); a != nullptr) {
    for (auto it = a->begin(); it != a->end(); ++it) {
      if (it.value().is_string()) {
        layer.annotations[it.key()] = it.value().get<std::string>();
      }
    }
  }
  return layer;
}

absl::StatusOr<std::vector<SignatureLayer>> LoadFixtureSignatures(
    absl::string_view fixture) {
  std::vector<SignatureLayer> out;
  for (int n = 1;; ++n) {
    const std::string relative = absl::StrCat(fixture, "/signature-", n);
    if (!fs::exists(fs::path(CosignFixtureDir()) / relative)) break;
    SHAPIN_ASSIGN_OR_RETURN(std::string bytes, ReadInteropFile(relative));
    SHAPIN_ASSIGN_OR_RETURN(SignatureLayer layer,
                            ParseSigstoreJsonSignature(bytes));
    out.push_back(std::move(layer));
  }
  if (out.empty()) {
    return absl::NotFoundError(absl::StrCat(fixture, " has no signature-1"));
  }
  return out;
}

std::string RekorPublicKeyPem() {
  absl::StatusOr<std::string> interop = ReadInteropFile("rekor.pub");
  if (interop.ok()) return *interop;
  absl::StatusOr<std::string> local =
      ReadFileBytes(absl::StrCat(SHAPIN_SIGNATURE_TESTDATA_DIR, "/rekor.pub"));
  return local.ok() ? *local : "";
}

}  // namespace shapin::signature::testing
