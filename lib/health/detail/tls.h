// SPDX-License-Identifier: BSD-3-Clause
// The OpenSSL client context shared by every SSL_GET probe: TLS_client_method, no certificate
// verification (keepalived's default: it checks that the service answers, not who it is), and
// an EOF without close_notify accepted as the end of an HTTP/1.0 response.
//
// Caller: control lcore. Private to lib/health; OpenSSL types stay out of public headers.
#pragma once

#include <openssl/ssl.h>

#include <memory>

#include "common/result.h"

namespace director::health::detail {

class TlsContext {
public:
    /** @return the context, or the OpenSSL error text */
    static Result<std::unique_ptr<TlsContext>> create();
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    SSL_CTX* get() const noexcept { return ctx_; }

private:
    explicit TlsContext(SSL_CTX* ctx) noexcept : ctx_(ctx) {}
    SSL_CTX* ctx_;
};

/** The oldest queued OpenSSL error as text (and clears the queue); "unknown" if none. */
std::string tls_error_text();

}  // namespace director::health::detail
