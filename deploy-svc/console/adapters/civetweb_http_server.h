// CivetwebHttpServer: the console's HTTP(S) listener on Debian's civetweb
// (libcivetweb, the same shared library prometheus-cpp's /metrics exposer
// loads, so one copy lives in the process). civetweb parses HTTP; this
// adapter only turns its request into an HttpRequest, reads the body (at
// most `max_body_bytes`, else 413 before the handler runs), calls the
// handler on a full-size stack of its own (civetweb's workers have 100 KiB
// stacks: common/full_stack_call.h), and writes the HttpResponse back.
//
// With cert_file and key_file the port speaks only HTTPS (TLS 1.2+), the
// certificate chain and key loaded with OpenSSL into civetweb's context.
// civetweb's own log lines go to the service log at debug (they never see a
// token: tokens travel only in POST bodies, which are not logged).
//
//   SHAPIN_ASSIGN_OR_RETURN(
//       auto server, CivetwebHttpServer::Start(
//                        {.listen = "127.0.0.1:0"},
//                        [&](const HttpRequest& r) { return app.Handle(r); }));
//   server->port();  // the port bound
#ifndef SHAPIN_DEPLOY_SVC_CONSOLE_ADAPTERS_CIVETWEB_HTTP_SERVER_H_
#define SHAPIN_DEPLOY_SVC_CONSOLE_ADAPTERS_CIVETWEB_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "deploy-svc/console/http_exchange.h"

struct mg_context;
struct mg_connection;

namespace shapin::console {

struct HttpServerOptions {
  std::string listen = "";     // host:port (IPv4); port 0 picks a free one
  std::string cert_file = "";  // PEM chain; with key_file = HTTPS only
  std::string key_file = "";
  int threads = 8;
  size_t max_body_bytes = 16 * 1024;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class CivetwebHttpServer {
 public:
  // UNAVAILABLE naming the address when it cannot listen;
  // INVALID_ARGUMENT naming the file when the certificate or key cannot be
  // loaded.
  static absl::StatusOr<std::unique_ptr<CivetwebHttpServer>> Start(
      HttpServerOptions options, HttpHandler handler);
  // Stops listening and waits for requests in flight.
  ~CivetwebHttpServer();

  int port() const { return port_; }
  bool tls() const { return !options_.cert_file.empty(); }

 private:
  CivetwebHttpServer(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {}
  static int OnRequest(mg_connection* conn, void* self);
  static int OnInitSsl(void* ssl_ctx, void* self);
  static int OnLog(const mg_connection* conn, const char* message);
  int Serve(mg_connection* conn);

  const HttpServerOptions options_;
  const HttpHandler handler_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
  std::string tls_error_;
};

}  // namespace shapin::console

#endif  // SHAPIN_DEPLOY_SVC_CONSOLE_ADAPTERS_CIVETWEB_HTTP_SERVER_H_
