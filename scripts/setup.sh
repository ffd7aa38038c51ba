#!/usr/bin/env bash
# Installs what building and testing BehavERT needs beyond a Rust toolchain. Safe to re-run.
set -euo pipefail

# rustfmt and clippy for the style checks (CI); present on most rustup installs.
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        rustup component add "$component"
    fi
done

# With --fuzz: the nightly toolchain and cargo-fuzz, for scripts/fuzz.sh (CI runs it).
if [ "${1:-}" = "--fuzz" ]; then
    if ! rustup run nightly rustc --version >/dev/null 2>&1; then
        rustup toolchain install nightly --profile minimal
    fi
    if ! cargo fuzz --version >/dev/null 2>&1; then
        cargo install cargo-fuzz --locked
    fi
fi
