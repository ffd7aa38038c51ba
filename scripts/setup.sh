#!/usr/bin/env bash
# Installs what building and testing BehavERT needs beyond a Rust toolchain. Safe to re-run.
set -euo pipefail

# rustfmt and clippy for the style checks (CI); present on most rustup installs.
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        rustup component add "$component"
    fi
done
