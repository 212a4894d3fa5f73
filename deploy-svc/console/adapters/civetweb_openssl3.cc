// What Debian 12's civetweb needs from OpenSSL 3 and does not find.
//
// libcivetweb 1.15 (Debian 12) opens OpenSSL at run time by the names
// "libssl.so" and "libcrypto.so" and calls SSL_get_peer_certificate on every
// TLS connection; OpenSSL 3 has that function only as a macro for
// SSL_get1_peer_certificate, so the call goes through a null pointer and
// deploy-svc crashes on the first HTTPS request. This file is the whole of a
// small shared library named libssl.so (and an empty one named
// libcrypto.so, so no -dev symlink is needed at run time) that deploy-svc
// loads at start: glibc answers civetweb's dlopen("libssl.so") with the
// library already loaded under that soname, whose lookups reach the real
// libssl.so.3 and libcrypto.so.3 it depends on, plus this function.
#include "openssl/ssl.h"

#undef SSL_get_peer_certificate

extern "C" {

// OpenSSL 1.1's SSL_get_peer_certificate also returned a new reference
// (civetweb frees it), exactly as SSL_get1_peer_certificate does.
__attribute__((visibility("default"))) X509* SSL_get_peer_certificate(
    const SSL* ssl) {
  return SSL_get1_peer_certificate(ssl);
}

}  // extern "C"
