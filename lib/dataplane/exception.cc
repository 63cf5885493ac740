// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/exception.h"

#include <string>

namespace director::dp {

Result<std::unique_ptr<ExceptionChannel>> ExceptionChannel::create(unsigned worker, int socket) {
    const std::string f = "dir_exc_f" + std::to_string(worker);
    const std::string r = "dir_exc_r" + std::to_string(worker);
    rte_ring* frames =
        rte_ring_create(f.c_str(), kFrameRingSize, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (frames == nullptr) {
        return make_error("exception ring " + f + ": rte_ring_create failed");
    }
    rte_ring* resolve = rte_ring_create_elem(r.c_str(), sizeof(uint32_t), kResolveRingSize,
                                             socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (resolve == nullptr) {
        rte_ring_free(frames);
        return make_error("exception ring " + r + ": rte_ring_create_elem failed");
    }
    return std::unique_ptr<ExceptionChannel>(new ExceptionChannel(frames, resolve));
}

ExceptionChannel::~ExceptionChannel() {
    rte_mbuf* m = nullptr;
    while (rte_ring_sc_dequeue(frames_, reinterpret_cast<void**>(&m)) == 0) {
        rte_pktmbuf_free(m);
    }
    rte_ring_free(frames_);
    rte_ring_free(resolve_);
}

}  // namespace director::dp
