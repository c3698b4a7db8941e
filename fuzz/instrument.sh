#!/usr/bin/env bash
# RUSTC_WRAPPER for FUZZ_PROFILE=shared (see run.sh): adds cargo fuzz's
# SanitizerCoverage flags and `--cfg fuzzing` to the crates under test (the
# nanochat library and the fuzz targets, one per file of fuzz_targets/) and
# to libfuzzer-sys, and nothing
# else, so every other dependency is the very artifact `cargo test` built.
# Cargo runs it as: instrument.sh RUSTC ARGS...
set -euo pipefail
rustc=$1
shift
crate=
previous=
for arg in "$@"; do
    if [[ $previous == --crate-name ]]; then
        crate=$arg
        break
    fi
    previous=$arg
done
if [[ $crate == nanochat || $crate == libfuzzer_sys ]] ||
    [[ -n $crate && -f "$(dirname "$0")/fuzz_targets/$crate.rs" ]]; then
    # Word splitting is wanted: the flags are separate arguments.
    # shellcheck disable=SC2086
    exec "$rustc" "$@" ${NANOCHAT_FUZZ_FLAGS:?set by run.sh}
fi
exec "$rustc" "$@"
