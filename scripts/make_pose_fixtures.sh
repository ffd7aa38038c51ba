#!/usr/bin/env bash
# Regenerate crates/behavert-pose/tests/fixtures/ with the real tools' own writers, and dump
# what those tools read back (*.expected.json) for the Rust conformance tests.
# Needs only Python 3 and the package index; run from anywhere: scripts/make_pose_fixtures.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${POSE_FIXTURES_VENV:-$here/../target/pose-fixtures-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet \
    "movement==0.15.0" "sleap-io==0.9.5" "pynwb==4.2.0" "ndx-pose==0.4.0" \
    "tables==3.11.1" "pandas==3.1.1" "numpy==2.4.6" "h5py==3.16.0" "netCDF4==1.7.2"
fi
"$venv/bin/python" "$here/pose_fixtures.py" "$here/../crates/behavert-pose/tests/fixtures"
