#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Hot-path lint (STYLE.md H1): code that runs on worker lcores must not allocate, throw, lock,
# log per packet or make syscalls. This greps the datapath sources for the constructs that do.
# Control-plane-only files of those modules are listed in the exemptions with the reason.
set -euo pipefail
cd "$(dirname "$0")/../.."

hot_files=$(ls lib/dataplane/*.h lib/dataplane/*.cc \
               lib/lb/conn_table.* lib/lb/persist_table.* lib/lb/tcp_state.* lib/lb/scheduler.* \
               lib/net/parse.* lib/net/flow.h lib/net/checksum.h lib/net/ether.h \
               lib/net/verdict.* lib/net/detail/*.h 2>/dev/null || true)
# port.* runs on the control lcore at start-up only.
exempt='^lib/dataplane/(port\.(h|cc)|exception\.cc|worker_setup\.cc)$'

pattern='std::vector|std::string\b|std::function|std::shared_ptr|std::map|push_back|emplace_back'
pattern+='|[^_]new [A-Za-z_]|\bthrow\b|\bmalloc\(|\bcalloc\(|std::mutex|pthread_mutex|printf\('
pattern+='|std::cout|std::cerr|RTE_LOG\(|usleep\(|nanosleep\(|\bsleep\('

status=0
checked=0
for f in $hot_files; do
    if [[ "$f" =~ $exempt ]]; then
        continue
    fi
    checked=$((checked + 1))
    # Comments and string literals may mention the words: strip // comments, one-line /* */
    # comments, doc-comment continuation lines (` * ...`) and "..." literals first.
    if hits=$(sed -e 's:"\([^"\\]\|\\.\)*"::g' -e 's://.*$::' -e 's:/\*.*\*/::g' \
                  -e 's:^[[:space:]]*\*.*$::' -e 's:^[[:space:]]*/\*.*$::' "$f" |
              grep -nE "$pattern"); then
        echo "$f: hot-path violation:"
        echo "$hits" | sed 's/^/    /'
        status=1
    fi
done
echo "hotpath_lint: $checked files checked"
exit $status
