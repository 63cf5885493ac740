// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer entry point for the frame parser (coverage-guided; the deterministic smoke test is
// test/unit/net/parse_fuzz_test.cc). Not part of the meson build, since it needs clang:
//
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
//       $(pkg-config --cflags libdpdk) test/fuzz/parse_fuzz.cc lib/net/parse.cc \
//       lib/net/verdict.cc lib/net/addr.cc $(pkg-config --libs libdpdk) -o parse_fuzz
//   ./parse_fuzz -max_len=2048 -runs=10000000
//
// The first input byte chooses the options (segment split, checksum policy), so the fuzzer
// explores TruncatedSegment and the paths behind the IPv4 checksum too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "net/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t size) {
    using namespace director::net;
    if (size == 0 || size > 65535) {
        return 0;
    }
    const uint8_t mode = input[0];
    const auto len = static_cast<uint32_t>(size - 1);
    // An exact-size copy: libFuzzer's own buffer is exact too, but this keeps the frame
    // independent of the mode byte.
    std::unique_ptr<uint8_t[]> frame(new uint8_t[len]);
    std::memcpy(frame.get(), input + 1, len);

    ParseOptions opts;
    opts.verify_ipv4_checksum = (mode & 1) != 0;
    if ((mode & 2) != 0) {
        opts.pkt_len = len + (mode >> 2) * 64u + 1;  // the buffer is only the first segment
    }
    ParsedPacket pp;
    const Verdict v = parse_frame(frame.get(), len, pp, opts);
    if (static_cast<std::size_t>(v) >= kVerdictCount || pp.verdict != v) {
        std::abort();
    }
    const uint32_t frame_len = opts.pkt_len != 0 ? opts.pkt_len : len;
    if ((v == Verdict::Ok || v == Verdict::IcmpError || v == Verdict::Fragment) &&
        (uint64_t{pp.l3_offset} + pp.l3_len > frame_len ||
         pp.l4_offset > pp.l3_offset + pp.l3_len)) {
        std::abort();
    }
    if (v == Verdict::Arp) {
        ArpPacket arp;
        if (parse_arp(frame.get() + pp.l3_offset, len - pp.l3_offset, arp) != Verdict::Arp) {
            std::abort();
        }
    }
    return 0;
}
