#include "deploy-svc/console/adapters/civetweb_http_server.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "civetweb.h"
#include "common/full_stack_call.h"
#include "common/log.h"
#include "openssl/err.h"
#include "openssl/ssl.h"

namespace shapin::console {
namespace {

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return text;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CivetwebHttpServer>> CivetwebHttpServer::Start(
    HttpServerOptions options, HttpHandler handler) {
  const bool tls = !options.cert_file.empty();
  const size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "console listener ", options.listen, ": expected host:port"));
  }
  // civetweb: "host:port" plain, "host:port" + "s" for TLS only.
  const std::string ports = absl::StrCat(options.listen, tls ? "s" : "");
  const std::string threads = absl::StrCat(options.threads);
  std::vector<const char*> config = {"listening_ports",
                                     ports.c_str(),
                                     "num_threads",
                                     threads.c_str(),
                                     "enable_keep_alive",
                                     "yes",
                                     "request_timeout_ms",
                                     "30000",
                                     "enable_directory_listing",
                                     "no"};
  if (tls) {
    // TLS 1.2 and later; the certificate comes in through OnInitSsl.
    for (const char* kv : {"ssl_protocol_version", "4"}) config.push_back(kv);
  }
  config.push_back(nullptr);

  auto server = std::unique_ptr<CivetwebHttpServer>(
      new CivetwebHttpServer(std::move(options), std::move(handler)));
  if (tls) mg_init_library(MG_FEATURES_TLS);
  mg_callbacks callbacks{};
  callbacks.log_message = &CivetwebHttpServer::OnLog;
  if (tls) callbacks.init_ssl = &CivetwebHttpServer::OnInitSsl;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = server.get();
  init.configuration_options = config.data();
  char error_text[256] = "";
  mg_error_data error{};
  error.text = error_text;
  error.text_buffer_size = sizeof(error_text);
  server->ctx_ = mg_start2(&init, &error);
  if (server->ctx_ == nullptr) {
    if (!server->tls_error_.empty()) {
      return absl::InvalidArgumentError(server->tls_error_);
    }
    return absl::UnavailableError(absl::StrCat(
        "console listener ", server->options_.listen,
        ": cannot listen (port in use or address invalid): ", error_text));
  }
  mg_set_request_handler(server->ctx_, "/", &CivetwebHttpServer::OnRequest,
                         server.get());
  mg_server_port port{};
  if (mg_get_server_ports(server->ctx_, 1, &port) < 1) {
    return absl::UnavailableError(absl::StrCat(
        "console listener ", server->options_.listen, ": no port bound"));
  }
  server->port_ = port.port;
  return server;
}

CivetwebHttpServer::~CivetwebHttpServer() {
  if (ctx_ != nullptr) mg_stop(ctx_);
}

int CivetwebHttpServer::OnInitSsl(void* ssl_ctx, void* user_data) {
  auto* self = static_cast<CivetwebHttpServer*>(user_data);
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  const std::string& cert = self->options_.cert_file;
  const std::string& key = self->options_.key_file;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    self->tls_error_ =
        absl::StrCat("configuration key console.tls.cert_file: ", cert, ": ",
                     OpenSslError());
    return -1;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    self->tls_error_ = absl::StrCat(
        "configuration key console.tls.key_file: ", key, ": ", OpenSslError());
    return -1;
  }
  return 1;  // set up here: civetweb loads no certificate itself
}

int CivetwebHttpServer::OnLog(const mg_connection*, const char* message) {
  LogDebug("console_http_server", {{"message", message}});
  return 1;
}

int CivetwebHttpServer::OnRequest(mg_connection* conn, void* self) {
  // civetweb's worker stack is 100 KiB; the handler reaches Postgres, the
  // registry and TLS (common/full_stack_call.h).
  int status = 500;
  CallOnFullStack(
      [&] { status = static_cast<CivetwebHttpServer*>(self)->Serve(conn); });
  return status;
}

int CivetwebHttpServer::Serve(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  HttpRequest request;
  request.method = info->request_method ? info->request_method : "";
  request.path = info->local_uri ? info->local_uri : "";
  request.query = info->query_string ? info->query_string : "";
  request.remote_addr = info->remote_addr;
  request.tls = info->is_ssl != 0;
  for (int i = 0; i < info->num_headers; ++i) {
    request.headers.emplace_back(
        absl::AsciiStrToLower(info->http_headers[i].name),
        info->http_headers[i].value ? info->http_headers[i].value : "");
  }
  if (info->content_length > 0 &&
      static_cast<size_t>(info->content_length) > options_.max_body_bytes) {
    mg_send_http_error(conn, 413, "request body larger than %zu bytes\n",
                       options_.max_body_bytes);
    return 413;
  }
  // Read to the limit (chunked bodies have no length up front).
  char buffer[4096];
  while (true) {
    const int n = mg_read(conn, buffer, sizeof(buffer));
    if (n < 0) {
      mg_send_http_error(conn, 400, "request body could not be read\n");
      return 400;
    }
    if (n == 0) break;
    request.body.append(buffer, static_cast<size_t>(n));
    if (request.body.size() > options_.max_body_bytes) {
      mg_send_http_error(conn, 413, "request body larger than %zu bytes\n",
                         options_.max_body_bytes);
      return 413;
    }
  }

  const HttpResponse response = handler_(request);
  mg_response_header_start(conn, response.status);
  mg_response_header_add(conn, "Content-Type", response.content_type.c_str(),
                         -1);
  const std::string length = absl::StrCat(response.body.size());
  mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  for (const auto& [name, value] : response.headers) {
    mg_response_header_add(conn, name.c_str(), value.c_str(), -1);
  }
  mg_response_header_send(conn);
  if (!response.body.empty()) {
    mg_write(conn, response.body.data(), response.body.size());
  }
  return response.status;
}

}  // namespace shapin::console
