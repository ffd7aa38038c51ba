#!/usr/bin/env bash
# Fuzzes every reader a user's file reaches and the training config and checkpoint files
# (fuzz/fuzz_targets/) for SECONDS each (default 30),
# under a 2 GB memory limit and a 10-second limit per input. A panic, abort, leak, the memory
# limit or a hang fails the run and leaves the input in fuzz/artifacts/<target>/.
#   bash scripts/fuzz.sh [SECONDS] [TARGET…]
# FUZZ_RUNS=N instead runs N inputs per target from a fixed seed: the same inputs every time,
# as CI does, so a red CI always means a crash anyone can reproduce (exploring for new crashes
# is the timed run's job).
# Needs the nightly toolchain and cargo-fuzz (scripts/setup.sh --ci installs both).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
fixtures=crates/behavert-pose/tests/fixtures
datasets=$fixtures/datasets
# The seed corpus of each target: the committed test fixtures of its format.
declare -A seeds=(
    [dlc_csv]="$fixtures/dlc_*.csv $datasets/deepethogram/*/DATA/vid1/*DLC*.csv"
    [dlc_h5]="$fixtures/dlc_*.h5"
    [sleap_h5]="$fixtures/sleap_analysis_*.h5"
    [slp]="$fixtures/*.slp"
    [nwb]="$fixtures/*.nwb"
    [anipose]="$fixtures/anipose_*.csv"
    [lightning_pose]="$fixtures/lp_*.csv"
    [movement]="$fixtures/*.nc"
    [npy]="$fixtures/*.npy"
    [detect]="$fixtures/dlc_single_movement.csv $fixtures/dlc_single_movement.h5 $fixtures/sleap_labels.slp $fixtures/nwb_rate.nwb $fixtures/movement_singular.nc $fixtures/anipose_pose3d.csv"
    [labels_csv]="$datasets/deepethogram/*/DATA/*/*_labels.csv"
    [role_labels_csv]="$fixtures/roles_*.csv"
    [pickle]="$fixtures/object_p*.npy $datasets/bad/mabe22_*.npy"
    [mat]="$datasets/sbea/*.mat $datasets/bad/*.mat"
    [calms21_json]="$datasets/calms21/calms21_task1_train.json $datasets/bad/calms21_*.json"
    [deepethogram_yaml]="$datasets/deepethogram/*/project_config.yaml"
    [mabe22_keypoints]="$datasets/mabe22/mouse_triplet_train.npy $datasets/mabe22_fly/user_train.npy"
    [training_toml]="configs/training/*.toml experiments/*/*.toml experiments/*/*/*.toml"
    [config_json]="crates/behavert/tests/fixtures/fuzz/config_json/*"
    [training_json]="crates/behavert/tests/fixtures/fuzz/training_json/*"
)
# Targets whose inputs are slow (each runs a model) get this share of FUZZ_RUNS.
declare -A run_divisor=([training_json]=10)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=($(ls fuzz/fuzz_targets | sed 's/\.rs$//' | sort))
fi

cargo +nightly fuzz build --fuzz-dir fuzz -O
mkdir -p fuzz/logs
for target in "${targets[@]}"; do
    corpus=fuzz/corpus/$target
    mkdir -p "$corpus"
    # shellcheck disable=SC2086 # the globs are meant to expand
    cp -n ${seeds[$target]:-} "$corpus"/ 2>/dev/null || true
    log=fuzz/logs/$target.log
    if [ -n "${FUZZ_RUNS:-}" ]; then
        budget=(-runs=$((FUZZ_RUNS / ${run_divisor[$target]:-1})) -seed=1)
    else
        budget=(-max_total_time="$seconds")
    fi
    if ! cargo +nightly fuzz run --fuzz-dir fuzz -O "$target" "$corpus" -- "${budget[@]}" \
        -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz target $target failed: the input is in fuzz/artifacts/$target/" >&2
        exit 1
    fi
    runs=$(grep -oP 'stat::number_of_executed_units:\s*\K[0-9]+' "$log" || echo "?")
    rss=$(grep -oP 'stat::peak_rss_mb:\s*\K[0-9]+' "$log" || echo "?")
    echo "$target: $runs inputs, peak ${rss} MB, no crash"
done
