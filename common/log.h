// Structured logging: one event per line, `key=value` pairs.
//
//   ts=2026-11-27T21:30:00.123Z level=info event=build_published build_id=42
//   image_ref=ghcr.io/mconstant/pay2slay-api:3f2a…@sha256:9c1d…
//
// Values that contain spaces, quotes, '=' or control characters are written
// as double-quoted strings with \" \\ \n escapes, so every line parses back.
// Secrets never reach the output: values registered with AddSecret() are
// replaced by "[REDACTED]" wherever they occur (in any field, also inside
// longer text), a field whose key is "authorization" (any case) is redacted
// whole, and "Bearer <token>" / "Basic <token>" inside any value lose their
// token.
//
//   LogInfo("build_published", {{"build_id", build_id}, {"image_ref", ref}});
//   LogWarning("signature_unverified", {{"reason", "no_signature"}});
#ifndef SHAPIN_COMMON_LOG_H_
#define SHAPIN_COMMON_LOG_H_

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace shapin {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "debug" | "info" | "warning" | "error"; false for anything else.
bool ParseLogLevel(absl::string_view text, LogLevel* level);

struct LogField {
  // Anything absl::StrCat accepts (numbers, strings, types with AbslStringify).
  template <typename T>
  LogField(absl::string_view k, const T& v) : key(k), value(absl::StrCat(v)) {}
  LogField(absl::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  // Debian's Abseil keeps its own string_view type; accept the standard one.
  LogField(absl::string_view k, std::string_view v) : key(k), value(v) {}
  absl::string_view key;
  std::string value;
};

// Process-wide logging configuration. Thread-safe.
class Logger {
 public:
  using Sink = std::function<void(absl::string_view line)>;

  static Logger& Global();

  void SetMinLevel(LogLevel level);
  // Replaces the output (default: stderr, one write per line). For tests.
  void SetSink(Sink sink);
  // Registers a secret value to redact. Empty and very short (< 4 chars)
  // values are ignored: redacting "a" everywhere would destroy the log.
  void AddSecret(absl::string_view secret);

  void Log(LogLevel level, absl::string_view event,
           std::initializer_list<LogField> fields);
  void Log(LogLevel level, absl::string_view event,
           const std::vector<LogField>& fields);

  // Applies the redaction rules to free text (also used for error messages
  // that are returned to callers).
  std::string Redact(absl::string_view text) const;

 private:
  struct State;
  Logger();
  State* state_;
};

inline void LogDebug(absl::string_view event,
                     std::initializer_list<LogField> fields = {}) {
  Logger::Global().Log(LogLevel::kDebug, event, fields);
}
inline void LogInfo(absl::string_view event,
                    std::initializer_list<LogField> fields = {}) {
  Logger::Global().Log(LogLevel::kInfo, event, fields);
}
inline void LogWarning(absl::string_view event,
                       std::initializer_list<LogField> fields = {}) {
  Logger::Global().Log(LogLevel::kWarning, event, fields);
}
inline void LogError(absl::string_view event,
                     std::initializer_list<LogField> fields = {}) {
  Logger::Global().Log(LogLevel::kError, event, fields);
}

}  // namespace shapin

#endif  // SHAPIN_COMMON_LOG_H_
