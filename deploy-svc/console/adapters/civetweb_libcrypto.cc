// Empty: a library named libcrypto.so that depends on libcrypto.so.3
// (see civetweb_openssl3.cc).
