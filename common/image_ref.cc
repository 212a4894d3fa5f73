#include "common/image_ref.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace shapin {
namespace {

// Limits from distribution/reference (NameTotalLengthMax and the tag pattern).
constexpr size_t kNameMaxLength = 255;
constexpr size_t kTagMaxLength = 128;

constexpr absl::string_view kDefaultDomain = "docker.io";
constexpr absl::string_view kLegacyDefaultDomain = "index.docker.io";
constexpr absl::string_view kOfficialRepoPrefix = "library/";
constexpr absl::string_view kLocalhost = "localhost";

// Quoted and escaped, so user input cannot break the message or a log line.
std::string Quote(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(text), "\"");
}

bool IsLowerAlnum(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c);
}

bool IsWordChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

bool IsHexOrColon(char c) { return absl::ascii_isxdigit(c) || c == ':'; }

// tag := [\w][\w.-]{0,127}
absl::Status ValidateTag(absl::string_view tag) {
  if (tag.empty()) return absl::InvalidArgumentError("empty tag");
  if (tag.size() > kTagMaxLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tag is ", tag.size(), " characters, longer than ", kTagMaxLength));
  }
  if (!IsWordChar(tag[0])) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tag ", Quote(tag), " must start with a letter, a digit or '_'"));
  }
  for (size_t i = 1; i < tag.size(); ++i) {
    const char c = tag[i];
    if (IsWordChar(c) || c == '.' || c == '-') continue;
    return absl::InvalidArgumentError(
        absl::StrCat("invalid character '", absl::CHexEscape(tag.substr(i, 1)),
                     "' at position ", i, " in tag ", Quote(tag)));
  }
  return absl::OkStatus();
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool IsDomainComponent(absl::string_view component) {
  if (component.empty()) return false;
  if (!absl::ascii_isalnum(component.front()) ||
      !absl::ascii_isalnum(component.back())) {
    return false;
  }
  for (char c : component) {
    if (!absl::ascii_isalnum(c) && c != '-') return false;
  }
  return true;
}

// domain-name := domain-component ('.' domain-component)*; this also covers
// dotted IPv4 addresses.
bool IsDomainName(absl::string_view host) {
  for (absl::string_view component : absl::StrSplit(host, '.')) {
    if (!IsDomainComponent(component)) return false;
  }
  return true;
}

// '[' [a-fA-F0-9:]+ ']': like distribution, no zone ids or embedded IPv4.
bool IsBracketedIpv6(absl::string_view host) {
  if (host.size() < 3 || host.front() != '[' || host.back() != ']') {
    return false;
  }
  for (char c : host.substr(1, host.size() - 2)) {
    if (!IsHexOrColon(c)) return false;
  }
  return true;
}

// domain := host [':' port]; host := domain-name | '[' IPv6 ']'
absl::Status ValidateDomain(absl::string_view domain) {
  absl::string_view host = domain;
  absl::string_view port_part;  // ":<port>" or empty
  // An IPv6 host holds colons of its own, so the port starts after ']'.
  const size_t host_end =
      absl::StartsWith(domain, "[") ? domain.find(']') : domain.find(':');
  if (host_end != absl::string_view::npos) {
    const size_t split = domain[host_end] == ']' ? host_end + 1 : host_end;
    host = domain.substr(0, split);
    port_part = domain.substr(split);
  }
  if (!IsDomainName(host) && !IsBracketedIpv6(host)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid registry host ", Quote(host)));
  }
  if (port_part.empty()) return absl::OkStatus();
  const absl::string_view port = port_part.substr(1);
  if (port_part[0] != ':' || port.empty() ||
      !std::all_of(port.begin(), port.end(), absl::ascii_isdigit)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid port in registry ", Quote(domain)));
  }
  return absl::OkStatus();
}

// Consumes a run of [a-z0-9]; false if there is none.
bool ConsumeLowerAlnumRun(absl::string_view text, size_t& pos) {
  const size_t start = pos;
  while (pos < text.size() && IsLowerAlnum(text[pos])) ++pos;
  return pos > start;
}

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*
// separator := [._] | '__' | '-'+
bool IsPathComponent(absl::string_view component) {
  size_t pos = 0;
  if (!ConsumeLowerAlnumRun(component, pos)) return false;
  while (pos < component.size()) {
    const char c = component[pos];
    if (c == '.') {
      ++pos;
    } else if (c == '_') {
      pos += (pos + 1 < component.size() && component[pos + 1] == '_') ? 2 : 1;
    } else if (c == '-') {
      while (pos < component.size() && component[pos] == '-') ++pos;
    } else {
      return false;
    }
    if (!ConsumeLowerAlnumRun(component, pos)) return false;
  }
  return true;
}

absl::Status ValidateRepository(absl::string_view repository) {
  if (repository.empty()) return absl::InvalidArgumentError("empty repository");
  // Checked up front: upper case is the most common mistake and the grammar
  // error alone would not say so.
  if (std::any_of(repository.begin(), repository.end(), absl::ascii_isupper)) {
    return absl::InvalidArgumentError(
        absl::StrCat("repository ", Quote(repository), " must be lowercase"));
  }
  for (absl::string_view component : absl::StrSplit(repository, '/')) {
    if (component.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "empty path component in repository ", Quote(repository)));
    }
    if (!IsPathComponent(component)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid path component ", Quote(component),
                       " in repository ", Quote(repository)));
    }
  }
  return absl::OkStatus();
}

// The first component names a registry only if it cannot be a repository
// path component in docker's reading: it has a '.' or ':' or is "localhost".
bool LooksLikeDomain(absl::string_view component) {
  return absl::StrContains(component, '.') ||
         absl::StrContains(component, ':') || component == kLocalhost;
}

// Docker rejects a bare 64-hex string: it would be ambiguous with an image id.
bool IsImageId(absl::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

absl::StatusOr<ImageRef> ImageRef::Parse(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty image reference");
  if (IsImageId(text)) {
    return absl::InvalidArgumentError(
        "a 64-character hex string is an image id, not a repository");
  }

  // Neither name nor tag may contain '@', so the first one starts the digest.
  absl::string_view rest = text;
  std::optional<absl::string_view> digest_text;
  if (const size_t at = rest.find('@'); at != absl::string_view::npos) {
    digest_text = rest.substr(at + 1);
    rest = rest.substr(0, at);
  }
  // A tag follows the last ':' only when no '/' comes after it; otherwise
  // that ':' separates a registry port ("host:5000/name").
  std::optional<absl::string_view> tag_text;
  if (const size_t colon = rest.rfind(':');
      colon != absl::string_view::npos &&
      (rest.find('/', colon) == absl::string_view::npos)) {
    tag_text = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return absl::InvalidArgumentError("empty name");

  ImageRef ref;
  absl::string_view domain = kDefaultDomain;
  absl::string_view repository = rest;
  if (const size_t slash = rest.find('/');
      slash != absl::string_view::npos &&
      LooksLikeDomain(rest.substr(0, slash))) {
    domain = rest.substr(0, slash);
    repository = rest.substr(slash + 1);
    SHAPIN_RETURN_IF_ERROR(ValidateDomain(domain));
  }
  SHAPIN_RETURN_IF_ERROR(ValidateRepository(repository));
  if (domain == kLegacyDefaultDomain) domain = kDefaultDomain;
  ref.registry_ = std::string(domain);
  // Docker's official images live under "library/" on Docker Hub.
  ref.repository_ =
      domain == kDefaultDomain && !absl::StrContains(repository, '/')
          ? absl::StrCat(kOfficialRepoPrefix, repository)
          : std::string(repository);
  // Measured on the normalised name, as distribution does, so that what
  // ToString() prints always parses again.
  if (const size_t length = ref.registry_.size() + 1 + ref.repository_.size();
      length > kNameMaxLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "name is ", length, " characters, longer than ", kNameMaxLength));
  }

  if (tag_text.has_value()) {
    SHAPIN_RETURN_IF_ERROR(ValidateTag(*tag_text));
    ref.tag_ = std::string(*tag_text);
  }
  if (digest_text.has_value()) {
    absl::StatusOr<Digest> digest = Digest::Parse(*digest_text);
    if (!digest.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid digest: ", digest.status().message()));
    }
    ref.digest_ = *std::move(digest);
  }
  return ref;
}

absl::StatusOr<ImageRef> ImageRef::with_tag(absl::string_view tag) const {
  SHAPIN_RETURN_IF_ERROR(ValidateTag(tag));
  ImageRef copy = *this;
  copy.tag_ = std::string(tag);
  return copy;
}

ImageRef ImageRef::with_digest(const Digest& digest) const {
  ImageRef copy = *this;
  copy.digest_ = digest;
  return copy;
}

ImageRef ImageRef::repository_only() const {
  ImageRef copy = *this;
  copy.tag_.reset();
  copy.digest_.reset();
  return copy;
}

std::string ImageRef::ToString() const {
  std::string out = name();
  if (tag_.has_value()) absl::StrAppend(&out, ":", *tag_);
  if (digest_.has_value()) absl::StrAppend(&out, "@", digest_->str());
  return out;
}

}  // namespace shapin
