// Test-only helpers: reading the cosign interop vectors in
// ../shared/interop/cosign-containers-image/ (SHAPIN_INTEROP_DIR) and the
// module's own testdata (SHAPIN_SIGNATURE_TESTDATA_DIR).
//
// The interop folder was copied from a git checkout without symlink support:
// some files hold the target path of a symlink ("../dir-img-cosign-valid/
// signature-1") instead of content. ReadInteropFile follows such stubs
// inside the folder; a stub whose target was not copied is NOT_FOUND.
#ifndef SHAPIN_COMMON_SIGNATURE_TEST_FIXTURES_H_
#define SHAPIN_COMMON_SIGNATURE_TEST_FIXTURES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/signature/verifier.h"
#include "gmock/gmock.h"

namespace shapin::signature::testing {

// "<SHAPIN_INTEROP_DIR>/cosign-containers-image".
std::string CosignFixtureDir();

// Whole file, no stub following.
absl::StatusOr<std::string> ReadFileBytes(const std::string& path);

// `relative` under CosignFixtureDir(), following symlink stubs.
absl::StatusOr<std::string> ReadInteropFile(absl::string_view relative);

// Whether the file at `relative` is a symlink stub.
bool IsSymlinkStub(absl::string_view relative);

// A "signature-N" file: "\0sigstore-json\n" then {mimeType, payload (b64),
// annotations}.
absl::StatusOr<SignatureLayer> ParseSigstoreJsonSignature(
    absl::string_view bytes);

// Every signature-N of a fixture directory, in order.
absl::StatusOr<std::vector<SignatureLayer>> LoadFixtureSignatures(
    absl::string_view fixture);

// The Rekor public key: the interop folder's rekor.pub when it is real, else
// testdata/rekor.pub (see testdata/README.md).
std::string RekorPublicKeyPem();

inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

// EXPECT_THAT(f(), StatusIs(absl::StatusCode::kInvalidArgument,
//                           HasSubstr("duplicate key")));
MATCHER_P2(StatusIs, code, message_matcher,
           absl::StrCat("has status code ", absl::StatusCodeToString(code))) {
  const absl::Status& s = StatusOf(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::Matches(message_matcher)(std::string(s.message()));
}

}  // namespace shapin::signature::testing

#endif  // SHAPIN_COMMON_SIGNATURE_TEST_FIXTURES_H_
