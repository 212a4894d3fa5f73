#include "common/digest.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace shapin {
namespace {

constexpr absl::string_view kPrefix = "sha256:";
constexpr size_t kHexLength = 64;

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// Checks the 64-hex part. `expected` describes the whole accepted form for the
// length message; `offset` is where `hex` starts in the caller's input, so a
// reported position points into what the caller actually passed.
absl::Status ValidateHex(absl::string_view hex, absl::string_view expected,
                         size_t offset) {
  if (hex.size() != kHexLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be ", expected, ", got ", hex.size()));
  }
  for (size_t i = 0; i < hex.size(); ++i) {
    const char c = hex[i];
    if (IsLowerHex(c)) continue;
    std::string message =
        absl::StrCat("invalid character '", absl::CHexEscape(hex.substr(i, 1)),
                     "' at position ", offset + i);
    if (c >= 'A' && c <= 'F') absl::StrAppend(&message, " (must be lowercase)");
    return absl::InvalidArgumentError(message);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Digest> Digest::Parse(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty digest");
  if (!absl::StartsWith(text, kPrefix)) {
    const size_t colon = text.find(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError("missing \"sha256:\" prefix");
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "unsupported algorithm \"", absl::CHexEscape(text.substr(0, colon)),
        "\", only sha256 is accepted"));
  }
  SHAPIN_RETURN_IF_ERROR(ValidateHex(
      text.substr(kPrefix.size()),
      "\"sha256:\" followed by 64 lowercase hex characters", kPrefix.size()));
  return Digest(std::string(text));
}

absl::StatusOr<Digest> Digest::FromSha256Hex(absl::string_view hex) {
  SHAPIN_RETURN_IF_ERROR(ValidateHex(hex, "64 lowercase hex characters", 0));
  return Digest(absl::StrCat(kPrefix, hex));
}

Digest Digest::OfBytes(absl::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  // SHA-256 over a memory buffer only fails if OpenSSL cannot allocate its
  // context; there is no meaningful recovery, and a wrong digest would be
  // worse than stopping.
  if (EVP_Digest(bytes.data(), bytes.size(), md, &md_len, EVP_sha256(),
                 nullptr) != 1) {
    std::abort();
  }
  return Digest(
      absl::StrCat(kPrefix, absl::BytesToHexString(absl::string_view(
                                reinterpret_cast<const char*>(md), md_len))));
}

std::string Digest::tag_fallback() const {
  return absl::StrCat("sha256-", hex());
}

}  // namespace shapin
