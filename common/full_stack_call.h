// CallOnFullStack: runs `fn` on a thread with the platform's default stack
// (8 MiB on Debian) and waits for it.
//
// Why: Debian's civetweb 1.15 is built with USE_STACK_SIZE=102400, so its
// worker threads have 100 KiB stacks. The console's handlers and the build
// relay's upstream pushes run libcurl, OpenSSL and libpqxx under them; that
// fits in an optimised build only by luck and overflows under ASan (seen:
// a console rollback aborting deploy-svc with a stack overflow in memchr).
// A request handler entered on such a thread calls this once at its top.
//
// An exception thrown by `fn` is rethrown in the caller.
//
//   int OnRequest(mg_connection* conn, void* self) {
//     int status = 500;
//     CallOnFullStack([&] { status = Serve(conn); });
//     return status;
//   }
#ifndef SHAPIN_COMMON_FULL_STACK_CALL_H_
#define SHAPIN_COMMON_FULL_STACK_CALL_H_

#include "absl/functional/function_ref.h"

namespace shapin {

void CallOnFullStack(absl::FunctionRef<void()> fn);

}  // namespace shapin

#endif  // SHAPIN_COMMON_FULL_STACK_CALL_H_
