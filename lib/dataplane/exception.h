// SPDX-License-Identifier: BSD-3-Clause
// The exception channel from one worker to the control lcore: frames the worker does not
// forward (ARP, VRRP, ICMP for the director or a VIP, traffic for the director's own address)
// and requests to resolve a real server's MAC. Two single-producer/single-consumer rte_rings
// per worker (Seastar smp_message_queue: bounded, batched, no shared writer).
//
// Caller: create/destroy on the control lcore; punt()/request_resolve() on the owning worker
// only; drain_*() on the control lcore only.
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <cstdint>
#include <memory>

#include "common/result.h"

namespace director::dp {

/** Why a frame was punted; stored in the mbuf's hash.usr field for the control lcore. */
enum class PuntReason : uint32_t { Arp = 1, Vrrp, Icmp, Host };

class ExceptionChannel {
public:
    static constexpr uint32_t kFrameRingSize = 1024;
    static constexpr uint32_t kResolveRingSize = 256;

    /** Caller: control lcore. @param worker index used in the ring names */
    static Result<std::unique_ptr<ExceptionChannel>> create(unsigned worker, int socket);

    /** Frees queued frames and the rings. Caller: control lcore, after the worker stopped. */
    ~ExceptionChannel();

    ExceptionChannel(const ExceptionChannel&) = delete;
    ExceptionChannel& operator=(const ExceptionChannel&) = delete;

    /** Hands a frame to the control lcore. @return false (frame not taken) when full. */
    bool punt(rte_mbuf* m, PuntReason why) noexcept {
        m->hash.usr = static_cast<uint32_t>(why);
        return rte_ring_sp_enqueue(frames_, m) == 0;
    }

    /** Asks the control lcore to resolve real_id's MAC. @return false when full. */
    bool request_resolve(uint32_t real_id) noexcept {
        return rte_ring_sp_enqueue_elem(resolve_, &real_id, sizeof(real_id)) == 0;
    }

    /** Caller: control lcore. @return frames moved into out (ownership passes). */
    unsigned drain_frames(rte_mbuf** out, unsigned n) noexcept {
        return rte_ring_sc_dequeue_burst(frames_, reinterpret_cast<void**>(out), n, nullptr);
    }

    /** Caller: control lcore. @return real ids moved into out. */
    unsigned drain_resolve(uint32_t* out, unsigned n) noexcept {
        return rte_ring_sc_dequeue_burst_elem(resolve_, out, sizeof(uint32_t), n, nullptr);
    }

private:
    ExceptionChannel(rte_ring* frames, rte_ring* resolve) : frames_(frames), resolve_(resolve) {}

    rte_ring* frames_;
    rte_ring* resolve_;
};

}  // namespace director::dp
