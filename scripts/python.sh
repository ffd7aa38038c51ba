#!/usr/bin/env bash
# The Python package (crates/behavert-py): builds its wheel, installs it in a virtual
# environment with its test dependencies, and runs its tests, notebooks included.
# Run after `cargo test --workspace`: the wheel is built with the dev profile, whose
# dependencies are the ones the tests built (same opt-level), so only the package compiles.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${BEHAVERT_VENV:-target/python-venv}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
python=$(cd "$venv/bin" && pwd)/python
"$python" -m pip install --quiet --disable-pip-version-check -r crates/behavert-py/requirements-test.txt

rm -rf target/wheels
"$(dirname "$python")/maturin" build --profile dev --locked --manifest-path crates/behavert-py/Cargo.toml \
    --interpreter "$python" --out target/wheels
"$python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels/behavert-*.whl

cd crates/behavert-py
# Run from the tests' folder so `import behavert` is the installed wheel, not the source tree.
"$python" -m pytest -q -rs tests "$@"
