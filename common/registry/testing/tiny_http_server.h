// TinyHttpServer: a minimal HTTP/1.1 server on a loopback socket thread, for
// tests that need a registry to misbehave (a lying registry, a token
// server, a fault-injecting proxy in front of a real docker-registry).
// Not for production: no TLS, no chunked request bodies, one thread per
// connection.
//
//   auto server = TinyHttpServer::Start([](const TinyHttpRequest& req) {
//     return TinyHttpResponse{.status = 200, .body = "{}"};
//   });
//   std::string base = absl::StrCat("http://", (*server)->host());
#ifndef SHAPIN_COMMON_REGISTRY_TESTING_TINY_HTTP_SERVER_H_
#define SHAPIN_COMMON_REGISTRY_TESTING_TINY_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace shapin::registry::testing {

struct TinyHttpRequest {
  std::string method;
  std::string target;  // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::string path() const { return target.substr(0, target.find('?')); }
  // First value of `name` (any case), empty when absent.
  std::string Header(absl::string_view name) const;
  // Value of query parameter `name` (percent-decoded), all of them.
  std::vector<std::string> QueryValues(absl::string_view name) const;
};

struct TinyHttpResponse {
  // 0: hang up without answering (a connection broken mid-transfer).
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

class TinyHttpServer {
 public:
  using Handler = std::function<TinyHttpResponse(const TinyHttpRequest&)>;

  // Listens on 127.0.0.1 on a free port. The handler runs on connection
  // threads (possibly concurrently).
  static absl::StatusOr<std::unique_ptr<TinyHttpServer>> Start(Handler handler);
  ~TinyHttpServer();

  int port() const { return port_; }
  std::string host() const;  // "127.0.0.1:<port>"
  int requests() const { return requests_.load(); }

 private:
  TinyHttpServer(int listen_fd, int port, Handler handler);
  void AcceptLoop();
  void Serve(int fd);

  int listen_fd_;
  int port_;
  Handler handler_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::thread accept_thread_;
  absl::Mutex mu_;
  std::vector<int> conn_fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> conn_threads_ ABSL_GUARDED_BY(mu_);
};

// Sends `request` to http://127.0.0.1:<upstream_port> (as HTTP/1.0, one
// connection, Host header kept so Location headers point back at the proxy)
// and returns the upstream's response. UNAVAILABLE when it cannot connect.
absl::StatusOr<TinyHttpResponse> ForwardRequest(const TinyHttpRequest& request,
                                                int upstream_port);

// A free TCP port on 127.0.0.1 (bound and released; racy but fine for tests).
absl::StatusOr<int> PickFreePort();

}  // namespace shapin::registry::testing

#endif  // SHAPIN_COMMON_REGISTRY_TESTING_TINY_HTTP_SERVER_H_
