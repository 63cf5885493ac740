// SPDX-License-Identifier: BSD-3-Clause
#include "lb/scheduler.h"

#include <array>

namespace director::lb {

namespace {

using detail::kRealNew;

uint32_t be32(const uint8_t* p) noexcept {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

ConnCounts count_of(std::span<const ConnCounts> counts, uint32_t real_id) noexcept {
    return real_id < counts.size() ? counts[real_id] : ConnCounts{};
}

// ip_vs_wrr_dest_changed (and ip_vs_rr's list head): the first call after the service's
// generation or usable set changed restarts from the list head; cw is kept when still valid,
// clamped to mw, or rounded down to a multiple of di (+1), exactly as IPVS does.
void sync_state(const ServiceInfo& s, SchedState& st) noexcept {
    if (st.key == s.sched_key) {
        return;
    }
    st.key = s.sched_key;
    st.cursor = -1;
    if (st.cw > s.wrr_mw || st.cw <= 0) {
        st.cw = s.wrr_mw;
    } else if (s.wrr_di > 1) {
        st.cw = (st.cw / s.wrr_di) * s.wrr_di + 1;
    }
}

// ip_vs_rr_schedule: continue after the last chosen dest, wrap once, stop at it.
uint32_t pick_rr(const ServiceInfo& s, const uint8_t* flags, SchedState& st) noexcept {
    const auto n = static_cast<int32_t>(s.real_count);
    const int32_t last = st.cursor < n ? st.cursor : -1;
    int32_t i = last;
    for (int pass = 0; pass < 2; ++pass) {
        for (++i; i < n; ++i) {
            if ((flags[i] & kRealNew) != 0) {
                st.cursor = i;
                return static_cast<uint32_t>(i);
            }
            if (i == last) {
                return kNoReal;
            }
        }
        i = -1;
        if (last == -1) {  // started at the head: one pass saw every dest
            break;
        }
    }
    return kNoReal;
}

// ip_vs_wrr_schedule, with list positions instead of list pointers (-1 = list head).
uint32_t pick_wrr(const ServiceInfo& s, const uint8_t* flags, const uint32_t* weights,
                  SchedState& st) noexcept {
    if (s.wrr_mw == 0) {
        return kNoReal;  // err_noavail
    }
    const auto n = static_cast<int32_t>(s.real_count);
    int32_t i = st.cursor < n ? st.cursor : -1;
    const int32_t last = i;
    int32_t stop = -2;  // none
    bool last_pass = false;
    bool restarted = false;
    while (true) {
        for (++i; i < n; ++i) {
            if ((flags[i] & kRealNew) != 0 && static_cast<int64_t>(weights[i]) >= st.cw) {
                st.cursor = i;
                return static_cast<uint32_t>(i);
            }
            if (i == stop) {
                return kNoReal;  // err_over
            }
        }
        i = -1;
        st.cw -= s.wrr_di;
        if (st.cw <= 0) {
            st.cw = s.wrr_mw;
            // Stop if the last pass already ran from the head (see ip_vs_wrr.c).
            if (last_pass || last == -1) {
                return kNoReal;
            }
            restarted = true;
        }
        last_pass = st.cw <= s.wrr_di;
        if (last_pass && restarted && last != -1) {
            stop = last;  // the weight >= 1 pass must also cover dests up to 'last'
        }
    }
}

enum class Cost : uint8_t { Lc, Wlc, Sed, Nq };

// ip_vs_lc / ip_vs_wlc / ip_vs_sed / ip_vs_nq: one scan in list order. Overheads are 64-bit:
// (2^32 x 256) x kMaxWeight stays below 2^64, so the cross products cannot overflow.
template <Cost kCost>
uint32_t pick_least(const ServiceInfo& s, const uint8_t* flags, const uint32_t* weights,
                    const uint32_t* ids, std::span<const ConnCounts> counts) noexcept {
    uint32_t least = kNoReal;
    uint64_t loh = 0;  // overhead of the least loaded so far
    uint64_t lw = 0;   // its weight
    for (uint32_t i = 0; i < s.real_count; ++i) {
        if ((flags[i] & kRealNew) == 0) {
            continue;  // down, no MAC, or weight 0 (IPVS: weight == 0 or OVERLOAD)
        }
        const ConnCounts c = count_of(counts, ids[i]);
        const uint64_t active = c.active;
        const uint64_t w = weights[i];
        uint64_t doh;
        if constexpr (kCost == Cost::Lc || kCost == Cost::Wlc) {
            doh = (active << 8) + c.inactive;  // ip_vs_dest_conn_overhead
        } else {
            doh = active + 1;  // ip_vs_sed_dest_overhead / ip_vs_nq_dest_overhead
        }
        if constexpr (kCost == Cost::Nq) {
            if (active == 0) {
                return i;  // an idle server is taken at once
            }
        }
        // Strictly better only, so ties keep the first in list order. Selects rather than
        // branches: the outcome is data-dependent and mispredicted about half the time.
        bool better;
        if constexpr (kCost == Cost::Lc) {
            better = least == kNoReal || doh < loh;
        } else {
            better = least == kNoReal || loh * w > doh * lw;
        }
        least = better ? i : least;
        loh = better ? doh : loh;
        lw = better ? w : lw;
    }
    return least;
}

// ip_vs_sh_schedule / ip_vs_dh_schedule: the bucket owner if usable, else the consistent hash.
uint32_t pick_bucket(const Snapshot& snap, uint32_t svc, const uint8_t* flags, uint16_t owner,
                     uint32_t fallback_key) noexcept {
    if (owner != kMaglevEmpty && (flags[owner] & kRealNew) != 0) {
        return owner;
    }
    return snap.consistent_pick(svc, fallback_key, PickFor::NewFlow);
}

constexpr std::array<std::string_view, 9> kNames = {"rr", "wrr", "lc", "wlc", "sed",
                                                    "nq", "sh",  "dh", "mh"};

}  // namespace

uint32_t addr_fold(const uint8_t* bytes, net::Family family) noexcept {
    if (family == net::Family::V4) {
        return be32(bytes);
    }
    // ntohl(a ^ b ^ c ^ d) == ntohl(a) ^ ntohl(b) ^ ntohl(c) ^ ntohl(d)
    return be32(bytes) ^ be32(bytes + 4) ^ be32(bytes + 8) ^ be32(bytes + 12);
}

uint32_t addr_fold(const net::IpAddress& addr) noexcept {
    return addr_fold(addr.bytes(), addr.family());
}

SchedInput make_sched_input(const net::IpAddress& src, const net::IpAddress& dst,
                            uint32_t flow_hash) noexcept {
    return SchedInput{addr_fold(src), addr_fold(dst), flow_hash};
}

uint32_t schedule(const Snapshot& snap, uint32_t svc, const SchedInput& in, SchedState& state,
                  std::span<const ConnCounts> counts) noexcept {
    const ServiceInfo& s = snap.service(svc);
    if (s.usable_count == 0) {
        return kNoReal;
    }
    const uint8_t* flags = snap.slot_flags(svc);
    switch (s.scheduler) {
        case SchedulerKind::Rr:
            sync_state(s, state);
            return pick_rr(s, flags, state);
        case SchedulerKind::Wrr:
            sync_state(s, state);
            return pick_wrr(s, flags, snap.weights(svc).data(), state);
        case SchedulerKind::Lc:
            return pick_least<Cost::Lc>(s, flags, snap.weights(svc).data(),
                                        snap.real_ids(svc).data(), counts);
        case SchedulerKind::Wlc:
            return pick_least<Cost::Wlc>(s, flags, snap.weights(svc).data(),
                                         snap.real_ids(svc).data(), counts);
        case SchedulerKind::Sed:
            return pick_least<Cost::Sed>(s, flags, snap.weights(svc).data(),
                                         snap.real_ids(svc).data(), counts);
        case SchedulerKind::Nq:
            return pick_least<Cost::Nq>(s, flags, snap.weights(svc).data(),
                                        snap.real_ids(svc).data(), counts);
        case SchedulerKind::Sh:
            return pick_bucket(snap, svc, flags, s.tables[sh_bucket(in.src_fold)], in.src_fold);
        case SchedulerKind::Dh:
            return pick_bucket(snap, svc, flags, s.tables[kShBuckets + dh_bucket(in.dst_fold)],
                               in.dst_fold);
        case SchedulerKind::Mh:
            return snap.consistent_pick(svc, in.src_fold, PickFor::NewFlow);
    }
    return kNoReal;
}

std::string_view scheduler_name(SchedulerKind kind) noexcept {
    const auto i = static_cast<size_t>(kind);
    return i < kNames.size() ? kNames[i] : std::string_view("?");
}

std::optional<SchedulerKind> parse_scheduler_kind(std::string_view name) noexcept {
    for (size_t i = 0; i < kNames.size(); ++i) {
        if (kNames[i] == name) {
            return static_cast<SchedulerKind>(i);
        }
    }
    return std::nullopt;
}

}  // namespace director::lb
