#!/usr/bin/env bash
# Runs the cargo-fuzz (libFuzzer) targets of fuzz/ one after another, each
# for a bounded time, one process at a time.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Defaults: 600 seconds, every target in fuzz/fuzz_targets/. Needs a nightly
# toolchain (`rustup toolchain install nightly`). Builds the targets the way
# `cargo fuzz build` does (the same SanitizerCoverage flags, `--cfg
# fuzzing`, debug assertions and overflow checks, for the host target only
# so that build scripts and proc macros stay uninstrumented), without
# installing cargo-fuzz, so that a fresh machine saves its build. Each
# target starts from its
# committed seeds (fuzz/corpus/<target>/, only read) and keeps what it finds
# in fuzz/target/corpus/<target>/, so a run leaves git clean. Crashes,
# timeouts and OOMs land in fuzz/artifacts/<target>/ (reproduce one with
# `fuzz/target/<triple>/release/<target> <file>`, then add it to
# fuzz/corpus/<target>/ as crash-<what> once fixed, with a unit test beside
# the fix).
#
# Prints, per target, the seconds, the executions and exec/s and the final
# corpus size, and writes the same one line per target to
# target/fuzz-summary.txt. Exits non-zero if any target crashed, timed out
# or ran out of memory.
#
# Environment: FUZZ_TOOLCHAIN (nightly), FUZZ_SANITIZER (none: the crate
# forbids unsafe code, so AddressSanitizer mostly halves the speed; use
# `address` to check the C dependencies' allocations too), FUZZ_PROFILE
# (release; `smoke` compiles in about half the time at opt-level 1;
# `shared`, for CI's short runs, builds with stable Rust and the root
# workspace's dev profile in its target directory, reusing every dependency
# `cargo test` compiled there and instrumenting only nanochat, libfuzzer-sys
# and the targets, see instrument.sh), FUZZ_MAX_LEN (65536 bytes), FUZZ_RSS_LIMIT_MB (2048),
# FUZZ_TIMEOUT (10 seconds for one input), FUZZ_JOBS (1: how many targets
# run at once, one process each), FUZZ_BUILD_ONLY (1: build the targets and
# stop, so a caller can build early and run later).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

seconds=${1:-600}
shift || true
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
    echo "usage: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi
if (($# > 0)); then
    targets=("$@")
else
    targets=()
    for file in fuzz/fuzz_targets/*.rs; do
        targets+=("$(basename "$file" .rs)")
    done
fi

toolchain=${FUZZ_TOOLCHAIN:-nightly}
sanitizer=${FUZZ_SANITIZER:-none}
profile=${FUZZ_PROFILE:-release}
jobs=${FUZZ_JOBS:-1}
names=()
max_len=${FUZZ_MAX_LEN:-65536}
rss_limit=${FUZZ_RSS_LIMIT_MB:-2048}
timeout=${FUZZ_TIMEOUT:-10}

if [[ $profile == shared ]]; then
    # Stable Rust, as the root workspace builds: no sanitizer (they need
    # nightly's -Z flags).
    if [[ $sanitizer != none ]]; then
        echo "fuzz/run.sh: FUZZ_PROFILE=shared builds without a sanitizer" >&2
        exit 2
    fi
elif ! cargo "+$toolchain" --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: no $toolchain toolchain; rustup toolchain install $toolchain" >&2
    exit 2
fi
triple=$(rustc -vV | sed -n 's/^host: //p')
# cargo-fuzz 0.13's flags for `cargo fuzz build --sanitizer none`.
flags=(
    -Cpasses=sancov-module
    -Cllvm-args=-sanitizer-coverage-level=4
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
    -Cllvm-args=-sanitizer-coverage-pc-table
    -Cllvm-args=-sanitizer-coverage-trace-compares
    -Cllvm-args=-simplifycfg-branch-fold-threshold=0
    --cfg fuzzing
    -Cdebug-assertions
    -Coverflow-checks
)
case "$sanitizer" in
none) ;;
address | memory | thread | leak) flags+=("-Zsanitizer=$sanitizer") ;;
*)
    echo "fuzz/run.sh: unknown sanitizer $sanitizer" >&2
    exit 2
    ;;
esac

echo "== building ${targets[*]} (sanitizer: $sanitizer, profile: $profile)"
build_start=$SECONDS
bin_args=()
for target in "${targets[@]}"; do
    bin_args+=(--bin "$target")
done
if [[ $profile == shared ]]; then
    # The root workspace's toolchain, dev profile and target directory:
    # every dependency `cargo test` built there is reused; instrument.sh
    # instruments only nanochat, libfuzzer-sys and the targets.
    (
        cd "$root/fuzz"
        CARGO_TARGET_DIR="$root/target" RUSTC_WRAPPER="$root/fuzz/instrument.sh" \
            NANOCHAT_FUZZ_FLAGS="${flags[*]}" cargo build --locked "${bin_args[@]}"
    )
    bin_dir="$root/target/debug"
else
    (
        cd "$root/fuzz"
        RUSTFLAGS="${flags[*]}" cargo "+$toolchain" build --locked --profile "$profile" \
            --target "$triple" "${bin_args[@]}"
    )
    bin_dir="$root/fuzz/target/$triple/$profile"
fi
echo "== built in $((SECONDS - build_start)) s"
if [[ ${FUZZ_BUILD_ONLY:-0} == 1 ]]; then
    exit 0
fi

summary="$root/target/fuzz-summary.txt"
mkdir -p "$root/target"
: >"$summary"

# Runs one target; prints and appends its summary line; fails on a crash,
# timeout or out-of-memory.
run_target() {
    local target=$1
    local seeds="$root/fuzz/corpus/$target"
    local scratch="$root/fuzz/target/corpus/$target"
    local artifacts="$root/fuzz/artifacts/$target"
    # -jobs writes the child's output to fuzz-0.log in the working directory.
    local work="$root/fuzz/target/run/$target"
    local log="$root/fuzz/target/logs/$target.log"
    mkdir -p "$seeds" "$scratch" "$artifacts" "$work" "$(dirname "$log")"
    rm -f "$work"/fuzz-*.log
    local before
    before=$(find "$artifacts" -type f ! -name 'slow-unit-*' | sort)
    echo "== $target: $seconds s (seeds: $(find "$seeds" -type f | wc -l) files)"
    local status=0
    (
        cd "$work"
        "$bin_dir/$target" "$scratch" "$seeds" \
            -max_total_time="$seconds" -workers=1 -jobs=1 \
            -max_len="$max_len" -rss_limit_mb="$rss_limit" -timeout="$timeout" \
            -print_final_stats=1 -artifact_prefix="$artifacts/"
    ) >"$log" 2>&1 || status=$?

    local runs rate took corpus new peak after found verdict line
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    corpus=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | sed 's/corp: //')
    new=$(find "$scratch" -type f | wc -l)
    peak=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    after=$(find "$artifacts" -type f ! -name 'slow-unit-*' | sort)
    found=$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d' || true)
    verdict=ok
    if ((status != 0)) || [[ -n $found ]]; then
        verdict="FAILED (exit $status)"
    fi
    line="$target: ${took:-?} s, ${runs:-?} runs, ${rate:-?} exec/s, corpus ${corpus:-?} inputs (${new} in fuzz/target/corpus), peak RSS ${peak:-?} MB: $verdict"
    echo "$line"
    echo "$line" >>"$summary"
    if [[ $verdict != ok ]]; then
        grep -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -20 || true
        if [[ -n $found ]]; then
            echo "artifacts:"
            echo "$found" | sed 's/^/  /'
        fi
        echo "log: $log"
        return 1
    fi
}

# FUZZ_JOBS targets at a time (one process each).
failed=()
running=()
for target in "${targets[@]}"; do
    while ((${#running[@]} >= jobs)); do
        wait "${running[0]}" || failed+=("${names[0]}")
        running=("${running[@]:1}")
        names=("${names[@]:1}")
    done
    run_target "$target" &
    running+=($!)
    names+=("$target")
done
for i in "${!running[@]}"; do
    wait "${running[$i]}" || failed+=("${names[$i]}")
done

echo "== summary ($summary)"
cat "$summary"
if ((${#failed[@]} > 0)); then
    echo "fuzz/run.sh: ${failed[*]} failed" >&2
    exit 1
fi
