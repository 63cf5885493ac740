#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's test command: installs what is needed, builds, runs every test suite, and ends
# with one line `N passed, N failed, N skipped`. Exits non-zero when anything failed.
#
# Suites:
#   unit     GoogleTest executables, built with AddressSanitizer + UBSan (build-asan/)
#   checks   header self-containment and the hot-path lint
#   cli      director -t and directorctl on valid, invalid and keepalived files (build/)
#   pcap     the real director replaying pcaps on net_pcap vdevs (build/)
#   lab      end-to-end tests in network namespaces (build/)
# Every test case counts: each GoogleTest case, each scripted scenario.
#
# Environment: SKIP_INSTALL=1 skips install-deps.sh (for quick local runs only).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
results=$(mktemp -d /tmp/director-test.XXXXXX)
trap 'rm -rf "$results"' EXIT

passed=0
failed=0
skipped=0
failures=()

log() { printf '==> %s\n' "$*"; }

record() {  # record NAME STATUS(pass|fail|skip)
    case "$2" in
        pass) passed=$((passed + 1)) ;;
        skip) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)); failures+=("$1") ;;
    esac
}

finish() {
    if [ ${#failures[@]} -gt 0 ]; then
        printf '\nFailed:\n'
        printf '  %s\n' "${failures[@]}"
    fi
    printf '\n%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
    [ "$failed" -eq 0 ]
    exit $?
}

# ---- install and build ------------------------------------------------------------------
if [ "${SKIP_INSTALL:-0}" != 1 ]; then
    log "installing dependencies"
    if ! bash scripts/install-deps.sh; then
        record "install-deps" fail
        finish
    fi
fi

build_dir() {  # build_dir DIR MESON_ARGS...
    local dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" >"$results/setup-$(basename "$dir").log" 2>&1 ||
            { cat "$results/setup-$(basename "$dir").log"; return 1; }
    fi
    ninja -C "$dir" >"$results/ninja-$(basename "$dir").log" 2>&1 ||
        { tail -60 "$results/ninja-$(basename "$dir").log"; return 1; }
}

log "building build-asan (AddressSanitizer + UBSan: unit tests)"
if build_dir build-asan -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbenchmarks=false; then
    record "build: build-asan" pass
else
    record "build: build-asan" fail
    finish
fi
log "building build (release, as shipped: director, pcap and lab tests, benchmarks)"
if build_dir build -Dbuildtype=release; then
    record "build: build" pass
else
    record "build: build" fail
    finish
fi

# ---- unit tests (GoogleTest, JSON results) ------------------------------------------------
count_gtest_json() {  # prints "passed failed skipped" and the failed names on stderr
    python3 - "$1" <<'PY'
import json, sys
try:
    data = json.load(open(sys.argv[1]))
except Exception as e:  # the binary crashed before writing its report
    print("0 1 0"); print(f"  no JSON report: {e}", file=sys.stderr); sys.exit(0)
p = f = s = 0
for suite in data.get("testsuites", []):
    for t in suite.get("testsuite", []):
        name = f'{suite["name"]}.{t["name"]}'
        if t.get("result") == "SKIPPED" or t.get("status") == "NOTRUN":
            s += 1
        elif t.get("failures"):
            f += 1
            print(f"  FAILED {name}", file=sys.stderr)
        else:
            p += 1
print(p, f, s)
PY
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log "unit tests"
while IFS= read -r exe; do
    name=$(basename "$exe")
    json="$results/$name.json"
    out="$results/$name.out"
    "$exe" --gtest_output="json:$json" >"$out" 2>&1
    rc=$?
    read -r p f s < <(count_gtest_json "$json" 2>"$results/$name.failed")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1  # crashed, sanitizer report or non-zero exit with no failing case recorded
        echo "  $name exited $rc" >>"$results/$name.failed"
    fi
    printf '    %-28s %4d passed %3d failed %3d skipped\n' "$name" "$p" "$f" "$s"
    passed=$((passed + p))
    skipped=$((skipped + s))
    if [ "$f" -gt 0 ]; then
        failed=$((failed + f))
        failures+=("$name: $(tr '\n' ' ' <"$results/$name.failed")")
        tail -40 "$out"
    fi
done < <(find build-asan/test -type f -name '*_test' -perm -u+x | sort)

# ---- static checks ----------------------------------------------------------------------
log "static checks"
for check in test/checks/*.sh; do
    [ -e "$check" ] || continue
    name="check: $(basename "$check" .sh)"
    if bash "$check" >"$results/check.out" 2>&1; then
        record "$name" pass
        printf '    %-40s ok\n' "$name"
    else
        sed 's/^/    /' "$results/check.out"
        record "$name" fail
        printf '    %-40s FAILED\n' "$name"
    fi
done

# ---- scripted suites: each prints TAP-style `ok NAME` / `not ok NAME` / `ok NAME # SKIP` --
for suite in cli pcap lab; do
    for script in test/"$suite"/*_test.sh; do
        [ -e "$script" ] || continue
        log "$suite: $(basename "$script")"
        bash "$script" "$top/build" >"$results/suite.out" 2>&1
        rc=$?
        cat "$results/suite.out" | sed 's/^/    /'
        n=0
        while IFS= read -r line; do
            case "$line" in
                "not ok "*) record "$suite: ${line#not ok }" fail; n=$((n + 1)) ;;
                "ok "*"# SKIP"*) record "$suite: ${line#ok }" skip; n=$((n + 1)) ;;
                "ok "*) record "$suite: ${line#ok }" pass; n=$((n + 1)) ;;
            esac
        done <"$results/suite.out"
        if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$results/suite.out"; then
            record "$suite: $(basename "$script") exited $rc" fail
        elif [ "$n" -eq 0 ]; then
            record "$suite: $(basename "$script") ran no test" fail
        fi
    done
done

finish
