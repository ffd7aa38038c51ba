#!/usr/bin/env bash
# Installs what building and testing BehavERT needs beyond a Rust toolchain. Safe to re-run.
# `--ci` adds what only CI's extra runs need (.ci/run).
set -euo pipefail
ci=false
if [ "${1:-}" = "--ci" ]; then ci=true; fi

# rustfmt and clippy for the style checks (CI); present on most rustup installs.
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        rustup component add "$component"
    fi
done

if $ci; then
    # The nightly toolchain and cargo-fuzz, for scripts/fuzz.sh.
    if ! rustup run nightly rustc --version >/dev/null 2>&1; then
        rustup toolchain install nightly --profile minimal
    fi
    if ! cargo fuzz --version >/dev/null 2>&1; then
        cargo install cargo-fuzz --locked
    fi
    # OpenBLAS, for the tests' run with the products on the system's BLAS (`--features
    # behavert/openblas`): the path macOS takes through Accelerate, built and tested off a Mac.
    if command -v apt-get >/dev/null && ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
        sudo=""
        if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
        $sudo apt-get install -y libopenblas-dev || {
            $sudo apt-get update && $sudo apt-get install -y libopenblas-dev
        }
    fi
fi
