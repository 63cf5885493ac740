// SPDX-License-Identifier: BSD-3-Clause
// HTTP_GET / SSL_GET (keepalived check_http.c): for every url in turn, connect, send
//   GET <path> HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: <vhost | ip:port>\r\n\r\n
// read the whole response until the server closes, and check the status code against the
// url's ranges and, if set, the MD5 digest of the body. Each url has connect_timeout for all
// of that. The check succeeds only if every url does.
//
// TLS runs over memory BIOs: OpenSSL never touches the socket, so every write is our own
// send(MSG_NOSIGNAL) (a reset peer cannot raise SIGPIPE in the director) and the socket stays
// under the same epoll discipline as plain HTTP.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <string_view>

#include "health/detail/probes.h"
#include "health/detail/socket.h"
#include "health/detail/tls.h"

namespace director::health::detail {

namespace {

constexpr size_t kMaxHead = 64 * 1024;  ///< status line + headers; beyond that: failure
constexpr size_t kReadChunk = 16 * 1024;

/** The response of one url: head kept, body streamed into MD5. */
class Response {
public:
    Response() : md_(EVP_MD_CTX_new()) {}
    ~Response() { EVP_MD_CTX_free(md_); }
    Response(const Response&) = delete;
    Response& operator=(const Response&) = delete;

    void reset(bool digest) {
        head_.clear();
        head_done_ = false;
        digest_ = digest;
        if (digest_) {
            EVP_DigestInit_ex(md_, EVP_md5(), nullptr);
        }
    }

    /** @return false when the head grows beyond kMaxHead */
    bool feed(std::string_view data) {
        if (head_done_) {
            body(data);
            return true;
        }
        head_.append(data);
        size_t end = head_.find("\r\n\r\n");
        size_t sep = 4;
        if (end == std::string::npos) {
            end = head_.find("\n\n");
            sep = 2;
        }
        if (end == std::string::npos) {
            return head_.size() <= kMaxHead;
        }
        head_done_ = true;
        body(std::string_view(head_).substr(end + sep));
        head_.resize(end);
        return true;
    }

    /** The status code of "HTTP/x.y NNN ...", or -1. */
    int status() const {
        if (head_.compare(0, 5, "HTTP/") != 0) {
            return -1;
        }
        const size_t sp = head_.find(' ');
        if (sp == std::string::npos || sp + 4 > head_.size()) {
            return -1;
        }
        int code = 0;
        for (size_t i = sp + 1; i < sp + 4; ++i) {
            const char c = head_[i];
            if (c < '0' || c > '9') {
                return -1;
            }
            code = code * 10 + (c - '0');
        }
        return code;
    }

    /** Lowercase hex MD5 of the body received so far. */
    std::string digest_hex() {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_DigestFinal_ex(md_, md, &len);
        std::string hex;
        char b[3];
        for (unsigned int i = 0; i < len; ++i) {
            std::snprintf(b, sizeof(b), "%02x", md[i]);
            hex += b;
        }
        return hex;
    }

private:
    void body(std::string_view data) {
        if (digest_ && !data.empty()) {
            EVP_DigestUpdate(md_, data.data(), data.size());
        }
    }

    EVP_MD_CTX* md_;
    std::string head_;
    bool head_done_ = false;
    bool digest_ = false;
};

class HttpProbe final : public Probe {
public:
    HttpProbe(const CheckSpec& spec, const ProbeContext& ctx, bool tls)
        : spec_(spec), sock_(ctx.io), tls_ctx_(tls ? ctx.tls : nullptr), tls_(tls) {}

    ~HttpProbe() override { free_ssl(); }

    std::optional<ProbeResult> start(TimePoint now) override {
        url_ = 0;
        return begin_url(now);
    }

    std::optional<ProbeResult> on_ready(uint32_t /*events*/, TimePoint now) override {
        if (phase_ == Phase::Connecting) {
            const int err = socket_error(sock_.fd());
            if (err != 0) {
                return fail(errno_text("connect", err));
            }
            return connected(now);
        }
        return pump(now);
    }

    ProbeResult on_deadline(TimePoint /*now*/) override {
        close_connection();
        return ProbeResult::timeout(std::string("timeout ") + phase_name() + " url " +
                                    spec_.urls[url_].path);
    }

    TimePoint deadline() const override { return deadline_; }

private:
    enum class Phase : uint8_t { Connecting, Handshake, Sending, Reading };

    const char* phase_name() const {
        switch (phase_) {
            case Phase::Connecting:
                return "connecting";
            case Phase::Handshake:
                return "in TLS handshake";
            case Phase::Sending:
                return "sending";
            case Phase::Reading:
                return "reading";
        }
        return "";
    }

    const config::HttpUrl& url() const { return spec_.urls[url_]; }

    const std::string& vhost() const {
        return !url().virtualhost.empty() ? url().virtualhost : spec_.virtualhost;
    }

    /** keepalived http_request_thread(): a virtualhost as is, else "ip:port" ("[v6]:port"). */
    std::string request() const {
        std::string host = vhost();
        if (host.empty()) {
            host = spec_.address.to_string();
            if (spec_.address.is_v6()) {
                host = "[" + host + "]";
            }
            host += ":" + std::to_string(spec_.port);
        }
        return "GET " + url().path + " HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: " + host +
               "\r\n\r\n";
    }

    std::optional<ProbeResult> begin_url(TimePoint now) {
        close_connection();
        deadline_ = now + spec_.connect_timeout;
        response_.reset(!url().digest.empty());
        eof_ = false;
        out_.clear();
        phase_ = Phase::Connecting;
        const ConnectStart c = start_connect(spec_, SOCK_STREAM);
        if (c.error != 0) {
            return ProbeResult::failure(errno_text(c.step, c.error));
        }
        sock_.adopt(c.fd);
        if (!c.in_progress) {
            return connected(now);
        }
        sock_.watch(EPOLLOUT);
        return std::nullopt;
    }

    std::optional<ProbeResult> connected(TimePoint now) {
        if (!tls_) {
            out_ = request();
            phase_ = Phase::Sending;
            return pump(now);
        }
        if (tls_ctx_ == nullptr) {
            return fail("no TLS context");
        }
        ssl_ = SSL_new(tls_ctx_->get());
        BIO* rbio = BIO_new(BIO_s_mem());
        BIO* wbio = BIO_new(BIO_s_mem());
        if (ssl_ == nullptr || rbio == nullptr || wbio == nullptr) {
            BIO_free(rbio);
            BIO_free(wbio);
            return fail("TLS setup: " + tls_error_text());
        }
        BIO_set_mem_eof_return(rbio, -1);  // empty = "retry", until the socket says EOF
        SSL_set_bio(ssl_, rbio, wbio);     // ssl_ owns both from here
        rbio_ = rbio;
        wbio_ = wbio;
        SSL_set_connect_state(ssl_);
        if (spec_.enable_sni) {
            const std::string& vhost =
                !url().virtualhost.empty() ? url().virtualhost : spec_.virtualhost;
            if (!vhost.empty()) {
                SSL_set_tlsext_host_name(ssl_, vhost.c_str());
            }
        }
        phase_ = Phase::Handshake;
        return pump(now);
    }

    /** Moves bytes both ways and advances the phase until it would block. */
    std::optional<ProbeResult> pump(TimePoint now) {
        for (;;) {
            if (auto r = read_socket()) {
                return r;
            }
            if (tls_) {
                if (auto r = tls_step(now)) {
                    return r;
                }
            }
            if (auto r = flush()) {
                return r;
            }
            if (phase_ == Phase::Sending && out_.empty() && pending_tls_output() == 0) {
                phase_ = Phase::Reading;
            }
            if (phase_ == Phase::Reading && !tls_ && eof_) {
                return finish_url(now);
            }
            if (phase_ == Phase::Reading && tls_ && tls_eof_) {
                return finish_url(now);
            }
            if (!progress_) {
                break;
            }
            progress_ = false;
        }
        uint32_t events = EPOLLIN;
        if (!out_.empty()) {
            events |= EPOLLOUT;
        }
        sock_.watch(events);
        return std::nullopt;
    }

    /** Reads what the socket has: plain bytes go to the parser, TLS records to the BIO. */
    std::optional<ProbeResult> read_socket() {
        if (eof_ || phase_ == Phase::Connecting) {
            return std::nullopt;
        }
        char buf[kReadChunk];
        for (;;) {
            const ssize_t n = ::recv(sock_.fd(), buf, sizeof(buf), 0);
            if (n > 0) {
                progress_ = true;
                if (tls_) {
                    BIO_write(rbio_, buf, static_cast<int>(n));
                } else if (phase_ == Phase::Reading || phase_ == Phase::Sending) {
                    if (!response_.feed(std::string_view(buf, static_cast<size_t>(n)))) {
                        return fail("response headers too long");
                    }
                }
                continue;
            }
            if (n == 0) {
                eof_ = true;
                progress_ = true;
                if (tls_) {
                    BIO_set_mem_eof_return(rbio_, 0);
                }
                return std::nullopt;
            }
            const int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK) {
                return std::nullopt;
            }
            if (err == EINTR) {
                continue;
            }
            return fail(errno_text("recv", err));
        }
    }

    std::optional<ProbeResult> tls_step(TimePoint /*now*/) {
        if (phase_ == Phase::Handshake) {
            const int rc = SSL_do_handshake(ssl_);
            if (rc == 1) {
                const std::string req = request();
                if (SSL_write(ssl_, req.data(), static_cast<int>(req.size())) <= 0) {
                    return fail("TLS write: " + tls_error_text());
                }
                phase_ = Phase::Sending;
                progress_ = true;
            } else {
                const int e = SSL_get_error(ssl_, rc);
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                    return fail("TLS handshake: " + tls_error_text());
                }
                if (eof_ && e == SSL_ERROR_WANT_READ) {
                    return fail("TLS handshake: connection closed");
                }
            }
        }
        if (phase_ == Phase::Reading || phase_ == Phase::Sending) {
            char buf[kReadChunk];
            for (;;) {
                const int n = SSL_read(ssl_, buf, sizeof(buf));
                if (n > 0) {
                    progress_ = true;
                    if (!response_.feed(std::string_view(buf, static_cast<size_t>(n)))) {
                        return fail("response headers too long");
                    }
                    continue;
                }
                const int e = SSL_get_error(ssl_, n);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                    if (eof_ && e == SSL_ERROR_WANT_READ) {
                        tls_eof_ = true;  // socket closed mid-record: take what we have
                    }
                    break;
                }
                if (e == SSL_ERROR_ZERO_RETURN) {
                    tls_eof_ = true;
                    break;
                }
                return fail("TLS read: " + tls_error_text());
            }
        }
        return std::nullopt;
    }

    size_t pending_tls_output() const {
        return tls_ && wbio_ != nullptr ? BIO_ctrl_pending(wbio_) : 0;
    }

    /** Moves TLS output into out_, then sends out_ as far as the socket takes it. */
    std::optional<ProbeResult> flush() {
        if (tls_ && wbio_ != nullptr) {
            char buf[kReadChunk];
            while (BIO_ctrl_pending(wbio_) > 0) {
                const int n = BIO_read(wbio_, buf, sizeof(buf));
                if (n <= 0) {
                    break;
                }
                out_.append(buf, static_cast<size_t>(n));
            }
        }
        while (!out_.empty()) {
            const ssize_t n = ::send(sock_.fd(), out_.data(), out_.size(), MSG_NOSIGNAL);
            if (n > 0) {
                out_.erase(0, static_cast<size_t>(n));
                progress_ = true;
                continue;
            }
            const int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK) {
                break;
            }
            if (err == EINTR) {
                continue;
            }
            return fail(errno_text("send", err));
        }
        return std::nullopt;
    }

    std::optional<ProbeResult> finish_url(TimePoint now) {
        close_connection();
        const int status = response_.status();
        if (status < 0) {
            return ProbeResult::failure("no HTTP status line from url " + url().path);
        }
        bool status_ok = false;
        for (const config::StatusRange& r : url().status_code) {
            status_ok = status_ok || (status >= r.first && status <= r.last);
        }
        if (!status_ok) {
            return ProbeResult::failure("status code " + std::to_string(status) + " from url " +
                                        url().path);
        }
        if (!url().digest.empty()) {
            const std::string got = response_.digest_hex();
            if (got != url().digest) {
                return ProbeResult::failure("digest mismatch for url " + url().path + ": " + got);
            }
        }
        if (++url_ < spec_.urls.size()) {
            return begin_url(now);
        }
        url_ = spec_.urls.size() - 1;
        return ProbeResult::success();
    }

    ProbeResult fail(std::string why) {
        close_connection();
        return ProbeResult::failure(std::move(why));
    }

    void free_ssl() {
        if (ssl_ != nullptr) {
            SSL_free(ssl_);  // frees both BIOs
        }
        ssl_ = nullptr;
        rbio_ = nullptr;
        wbio_ = nullptr;
        tls_eof_ = false;
    }

    void close_connection() {
        free_ssl();
        sock_.reset();
    }

    const CheckSpec& spec_;
    WatchedSocket sock_;
    TlsContext* tls_ctx_;
    bool tls_;
    size_t url_ = 0;
    Phase phase_ = Phase::Connecting;
    TimePoint deadline_{};
    Response response_;
    std::string out_;
    SSL* ssl_ = nullptr;
    BIO* rbio_ = nullptr;
    BIO* wbio_ = nullptr;
    bool eof_ = false;
    bool tls_eof_ = false;
    bool progress_ = false;
};

}  // namespace

std::unique_ptr<Probe> make_http_probe(const CheckSpec& spec, const ProbeContext& ctx, bool tls) {
    return std::make_unique<HttpProbe>(spec, ctx, tls);
}

}  // namespace director::health::detail
