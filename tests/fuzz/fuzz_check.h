// FUZZ_CHECK: an invariant a fuzz target asserts on top of "no crash, no
// leak, no UB". A violated invariant aborts, so libFuzzer saves the input as
// a crash artifact just like a sanitizer report.
//
//   absl::StatusOr<Digest> d = Digest::Parse(text);
//   if (d.ok()) FUZZ_CHECK(d->str() == text);
#ifndef SHAPIN_TESTS_FUZZ_FUZZ_CHECK_H_
#define SHAPIN_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                          \
  do {                                                                 \
    if (!(condition)) {                                                \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #condition);                              \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

#endif  // SHAPIN_TESTS_FUZZ_FUZZ_CHECK_H_
