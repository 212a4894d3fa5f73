#include "common/registry/auth_challenge.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace shapin::registry {
namespace {

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~/").find(c) !=
             absl::string_view::npos;
}

class Scanner {
 public:
  explicit Scanner(absl::string_view s) : s_(s) {}

  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  void SkipSpaceAndCommas() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == ',')) {
      ++pos_;
    }
  }
  bool Done() const { return pos_ >= s_.size(); }
  char Peek() const { return Done() ? '\0' : s_[pos_]; }
  void Advance() { ++pos_; }
  size_t pos() const { return pos_; }
  void set_pos(size_t p) { pos_ = p; }

  std::string Token() {
    size_t start = pos_;
    while (pos_ < s_.size() && IsTokenChar(s_[pos_])) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }

  // Token68-style or quoted value.
  std::string Value() {
    if (Peek() != '"') {
      size_t start = pos_;
      while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != ' ') ++pos_;
      return std::string(s_.substr(start, pos_ - start));
    }
    ++pos_;
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out.push_back(s_[pos_++]);
    }
    if (pos_ < s_.size()) ++pos_;  // closing quote
    return out;
  }

 private:
  absl::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::string AuthChallenge::Param(absl::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return "";
}

std::vector<AuthChallenge> ParseWwwAuthenticate(absl::string_view header) {
  std::vector<AuthChallenge> out;
  Scanner sc(header);
  sc.SkipSpaceAndCommas();
  while (!sc.Done()) {
    std::string scheme = sc.Token();
    if (scheme.empty()) break;
    AuthChallenge challenge;
    challenge.scheme = absl::AsciiStrToLower(scheme);
    // Parameters until a token that is not followed by '=' (next scheme).
    while (true) {
      sc.SkipSpaceAndCommas();
      if (sc.Done()) break;
      size_t mark = sc.pos();
      std::string name = sc.Token();
      sc.SkipSpace();
      if (name.empty() || sc.Peek() != '=') {
        sc.set_pos(mark);
        break;
      }
      sc.Advance();  // '='
      sc.SkipSpace();
      challenge.params.emplace_back(absl::AsciiStrToLower(name), sc.Value());
    }
    out.push_back(std::move(challenge));
    sc.SkipSpaceAndCommas();
  }
  return out;
}

}  // namespace shapin::registry
