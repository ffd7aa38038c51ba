#!/usr/bin/env bash
# Convert the committed fixtures with BehavERT's writers and check that movement, sleap-io,
# pandas and numpy read the results as they read the originals. Closes with 'N passed, M failed'.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/.."
venv="${POSE_FIXTURES_VENV:-$root/target/pose-fixtures-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet \
    "movement==0.15.0" "sleap-io==0.9.5" "pynwb==4.2.0" "ndx-pose==0.4.0" \
    "tables==3.11.1" "pandas==3.1.1" "numpy==2.4.6" "h5py==3.16.0" "netCDF4==1.7.2"
fi
(cd "$root" && cargo build -q -p behavert-pose --example convert)
"$venv/bin/python" "$here/pose_roundtrip.py" "$root/target/debug/examples/convert" "$root/crates/behavert-pose/tests/fixtures"
