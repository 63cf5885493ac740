// SPDX-License-Identifier: BSD-3-Clause
#include "health/detail/tls.h"

#include <openssl/err.h>

#include <string>

namespace director::health::detail {

Result<std::unique_ptr<TlsContext>> TlsContext::create() {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) {
        return make_error("SSL_CTX_new: " + tls_error_text());
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    // HTTP/1.0 servers often close without close_notify; the body is complete anyway.
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    // One connection per probe: no session cache, no tickets kept.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return std::unique_ptr<TlsContext>(new TlsContext(ctx));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::string tls_error_text() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) {
        return "unknown";
    }
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    return buf;
}

}  // namespace director::health::detail
