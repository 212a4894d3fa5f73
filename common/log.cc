#include "common/log.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace shapin {
namespace {

constexpr absl::string_view kRedacted = "[REDACTED]";
// Shorter secrets would match too much ordinary text.
constexpr size_t kMinSecretLength = 4;

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool NeedsQuoting(absl::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u == ' ' || c == '"' || c == '=' || IsControl(u)) return true;
  }
  return false;
}

void AppendValue(absl::string_view value, std::string* out) {
  if (!NeedsQuoting(value)) {
    out->append(value.data(), value.size());
    return;
  }
  out->push_back('"');
  for (char c : value) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (IsControl(static_cast<unsigned char>(c))) {
          constexpr char kHex[] = "0123456789abcdef";
          const auto u = static_cast<unsigned char>(c);
          out->append({'\\', 'x', kHex[u >> 4], kHex[u & 0xf]});
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Keys come from code, but a stray space or '=' would make the line
// unparseable, so such characters become '_'.
void AppendKey(absl::string_view key, std::string* out) {
  if (key.empty()) {
    out->push_back('_');
    return;
  }
  for (char c : key) {
    const auto u = static_cast<unsigned char>(c);
    const bool bad = u == ' ' || c == '"' || c == '=' || IsControl(u);
    out->push_back(bad ? '_' : c);
  }
}

bool IsAuthorizationKey(absl::string_view key) {
  return absl::EqualsIgnoreCase(key, "authorization") ||
         absl::EqualsIgnoreCase(key, "proxy-authorization");
}

// Replaces every byte covered by an occurrence of any secret; overlapping or
// adjacent occurrences collapse into one marker, so no fragment of a secret
// survives (a plain left-to-right replace could leave the tail of a secret
// that overlaps an earlier match).
std::string RedactSecrets(absl::string_view text,
                          const std::vector<std::string>& secrets) {
  std::vector<bool> covered;
  for (const std::string& secret : secrets) {
    for (size_t pos = text.find(secret); pos != absl::string_view::npos;
         pos = text.find(secret, pos + 1)) {
      if (covered.empty()) covered.resize(text.size(), false);
      std::fill(covered.begin() + pos, covered.begin() + pos + secret.size(),
                true);
    }
  }
  if (covered.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (!covered[i]) {
      out.push_back(text[i++]);
      continue;
    }
    out.append(kRedacted.data(), kRedacted.size());
    while (i < text.size() && covered[i]) ++i;
  }
  return out;
}

// Length of "bearer" / "basic" (any case) starting at `pos` on a word
// boundary, or 0.
size_t AuthSchemeLength(absl::string_view text, size_t pos) {
  if (pos > 0 && absl::ascii_isalnum(static_cast<unsigned char>(text[pos - 1])))
    return 0;
  for (absl::string_view scheme :
       {absl::string_view("bearer"), absl::string_view("basic")}) {
    if (absl::StartsWithIgnoreCase(text.substr(pos), scheme)) {
      return scheme.size();
    }
  }
  return 0;
}

// A credential ends at whitespace, a quote or a list separator (it may sit
// inside JSON or a comma-separated header).
bool EndsToken(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == ' ' || c == '"' || c == '\'' || c == ',' || c == ';' ||
         IsControl(u);
}

// "Bearer abc" -> "Bearer [REDACTED]"; the scheme stays for debugging.
std::string RedactAuthTokens(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const size_t scheme_len = AuthSchemeLength(text, i);
    if (scheme_len == 0) {
      out.push_back(text[i++]);
      continue;
    }
    size_t token_begin = i + scheme_len;
    while (token_begin < text.size() &&
           (text[token_begin] == ' ' || text[token_begin] == '\t')) {
      ++token_begin;
    }
    size_t token_end = token_begin;
    while (token_end < text.size() && !EndsToken(text[token_end])) {
      ++token_end;
    }
    if (token_begin == i + scheme_len || token_end == token_begin) {
      // "Bearer" not followed by whitespace and a token: ordinary text.
      out.append(text.data() + i, scheme_len);
      i += scheme_len;
      continue;
    }
    out.append(text.data() + i, token_begin - i);
    out.append(kRedacted.data(), kRedacted.size());
    i = token_end;
  }
  return out;
}

// The default sink. Called with the logger's mutex held, and one write(2) per
// line keeps lines whole even when other processes share stderr (lines are
// usually below PIPE_BUF).
void WriteToStderr(absl::string_view line) {
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = write(STDERR_FILENO, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // Nowhere left to report a logging failure.
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

bool ParseLogLevel(absl::string_view text, LogLevel* level) {
  for (LogLevel candidate : {LogLevel::kDebug, LogLevel::kInfo,
                             LogLevel::kWarning, LogLevel::kError}) {
    if (text == LevelName(candidate)) {
      *level = candidate;
      return true;
    }
  }
  return false;
}

struct Logger::State {
  std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};
  mutable absl::Mutex mu;
  // Empty: stderr.
  Sink sink ABSL_GUARDED_BY(mu);
  std::vector<std::string> secrets ABSL_GUARDED_BY(mu);

  std::string RedactLocked(absl::string_view text) const
      ABSL_SHARED_LOCKS_REQUIRED(mu) {
    return RedactAuthTokens(RedactSecrets(text, secrets));
  }

  void Emit(LogLevel level, absl::string_view event, const LogField* begin,
            const LogField* end) ABSL_LOCKS_EXCLUDED(mu) {
    if (static_cast<int>(level) < min_level.load(std::memory_order_relaxed)) {
      return;
    }
    std::string line =
        absl::StrCat("ts=",
                     absl::FormatTime("%Y-%m-%d%ET%H:%M:%E3SZ", absl::Now(),
                                      absl::UTCTimeZone()),
                     " level=", LevelName(level), " event=");

    // Formatting under the lock keeps the secret list stable, and sinks are
    // called serialized so they need no locking of their own (they must not
    // log, though).
    absl::MutexLock lock(&mu);
    AppendValue(RedactLocked(event), &line);
    for (const LogField* field = begin; field != end; ++field) {
      line.push_back(' ');
      AppendKey(RedactLocked(field->key), &line);
      line.push_back('=');
      if (IsAuthorizationKey(field->key)) {
        AppendValue(kRedacted, &line);
      } else {
        AppendValue(RedactLocked(field->value), &line);
      }
    }
    if (sink) {
      sink(line);
      return;
    }
    line.push_back('\n');
    WriteToStderr(line);
  }
};

Logger::Logger() : state_(new State) {}

Logger& Logger::Global() {
  // Never destroyed: threads may still log during static destruction.
  static Logger* const logger = new Logger();
  return *logger;
}

void Logger::SetMinLevel(LogLevel level) {
  state_->min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

void Logger::SetSink(Sink sink) {
  absl::MutexLock lock(&state_->mu);
  state_->sink = std::move(sink);
}

void Logger::AddSecret(absl::string_view secret) {
  if (secret.size() < kMinSecretLength) return;
  absl::MutexLock lock(&state_->mu);
  if (std::find(state_->secrets.begin(), state_->secrets.end(), secret) !=
      state_->secrets.end()) {
    return;
  }
  state_->secrets.emplace_back(secret);
}

void Logger::Log(LogLevel level, absl::string_view event,
                 std::initializer_list<LogField> fields) {
  state_->Emit(level, event, fields.begin(), fields.end());
}

void Logger::Log(LogLevel level, absl::string_view event,
                 const std::vector<LogField>& fields) {
  state_->Emit(level, event, fields.data(), fields.data() + fields.size());
}

std::string Logger::Redact(absl::string_view text) const {
  absl::ReaderMutexLock lock(&state_->mu);
  return state_->RedactLocked(text);
}

}  // namespace shapin
