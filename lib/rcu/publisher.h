// SPDX-License-Identifier: BSD-3-Clause
// Publisher<T>: hands immutable objects (service snapshots) from the control lcore to worker
// lcores without locks, and frees a replaced object only after every registered reader has
// passed a quiescent state. This is DPDK's QSBR (lib/rcu/rte_rcu_qsbr.h) written down once:
//
//  Reader (worker, one thread id each):
//    online() once; then per loop iteration: current() — an acquire load, the object stays
//    valid until this reader's next quiescent(); quiescent() at the end of the iteration;
//    offline() before anything that may block, and before exit.
//  Writer (control lcore only):
//    publish(next) — release store of the new pointer, then rte_rcu_qsbr_start() takes a token
//    for the old object; poll_reclaim() from the event loop frees every retired object whose
//    token rte_rcu_qsbr_check(wait=false) reports passed. The writer never blocks in
//    rte_rcu_qsbr_synchronize: VRRP adverts must keep their timing.
//
// Caller: as stated per method. Not copyable, not movable (readers hold its address).
#pragma once

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <utility>

#include "common/result.h"

namespace director::rcu {

template <class T>
class Publisher {
public:
    /**
     * Allocates the QSBR variable for up to max_readers reader thread ids (0..max_readers-1).
     * Caller: control lcore, before readers start.
     */
    static Result<std::unique_ptr<Publisher>> create(uint32_t max_readers) {
        const size_t size = rte_rcu_qsbr_get_memsize(max_readers);
        auto* qsbr = static_cast<rte_rcu_qsbr*>(
            rte_zmalloc("director_qsbr", size, RTE_CACHE_LINE_SIZE));
        if (qsbr == nullptr) {
            return make_error("rcu: cannot allocate the QSBR variable (rte_zmalloc)");
        }
        if (rte_rcu_qsbr_init(qsbr, max_readers) != 0) {
            rte_free(qsbr);
            return make_error("rcu: rte_rcu_qsbr_init failed");
        }
        return std::unique_ptr<Publisher>(new Publisher(qsbr));
    }

    ~Publisher() {
        // Readers are gone (workers joined) by contract, so nothing can still hold these.
        delete current_.load(std::memory_order_relaxed);
        for (auto& r : retired_) {
            delete r.object;
        }
        rte_free(qsbr_);
    }

    Publisher(const Publisher&) = delete;
    Publisher& operator=(const Publisher&) = delete;

    /** Caller: control lcore, before the reader thread runs. */
    Result<void> register_reader(uint32_t reader_id) {
        if (rte_rcu_qsbr_thread_register(qsbr_, reader_id) != 0) {
            return make_error("rcu: cannot register reader " + std::to_string(reader_id));
        }
        return {};
    }

    /**
     * Makes next the current object; the previous one is retired and freed by a later
     * poll_reclaim() once every online reader has reported quiescence.
     * Caller: control lcore only.
     */
    void publish(std::unique_ptr<T> next) {
        // Release: a reader that loads the new pointer with acquire sees the fully built
        // object (every store the builder made happens-before the load).
        T* old = current_.exchange(next.release(), std::memory_order_acq_rel);
        if (old != nullptr) {
            // The token is taken after the swap, so a reader that reports quiescence after
            // it can no longer hold the old pointer (rte_rcu_qsbr_start documents this order).
            retired_.push_back(Retired{old, rte_rcu_qsbr_start(qsbr_)});
        }
        ++published_;
    }

    /**
     * Frees retired objects whose grace period has ended; never blocks.
     * Caller: control lcore only. @return number of objects freed
     */
    uint32_t poll_reclaim() {
        uint32_t freed = 0;
        // Tokens increase monotonically, so the queue is ordered: stop at the first that is
        // still pending.
        while (!retired_.empty() && rte_rcu_qsbr_check(qsbr_, retired_.front().token, false) == 1) {
            delete retired_.front().object;
            retired_.pop_front();
            ++freed;
        }
        return freed;
    }

    /** Objects published but not yet freed. Caller: control lcore only. */
    size_t pending() const noexcept { return retired_.size(); }
    uint64_t published() const noexcept { return published_; }

    // ---- reader side -----------------------------------------------------------------

    /** Caller: the reader's own thread, once before its loop. */
    void online(uint32_t reader_id) noexcept { rte_rcu_qsbr_thread_online(qsbr_, reader_id); }

    /** Caller: the reader's own thread, before blocking or exiting. */
    void offline(uint32_t reader_id) noexcept { rte_rcu_qsbr_thread_offline(qsbr_, reader_id); }

    /**
     * The current object, valid until this reader's next quiescent()/offline().
     * Caller: a registered, online reader. Lock-free, noexcept.
     */
    const T* current() const noexcept { return current_.load(std::memory_order_acquire); }

    /** Reports that this reader holds no object from current(). Caller: the reader. */
    void quiescent(uint32_t reader_id) noexcept { rte_rcu_qsbr_quiescent(qsbr_, reader_id); }

private:
    explicit Publisher(rte_rcu_qsbr* qsbr) : qsbr_(qsbr) {}

    struct Retired {
        T* object;
        uint64_t token;
    };

    rte_rcu_qsbr* qsbr_;
    alignas(64) std::atomic<T*> current_{nullptr};  // read by every worker each iteration
    std::deque<Retired> retired_;                    // control lcore only
    uint64_t published_ = 0;
};

}  // namespace director::rcu
