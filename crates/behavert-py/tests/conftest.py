"""Shared fixtures: simulated mice written as DeepLabCut files with labels, and a tiny model
fine-tuned on them through the Python API."""

from pathlib import Path

import pytest

import behavert
from behavert import _native

REPOSITORY = Path(__file__).resolve().parents[3]
FIXTURES = REPOSITORY / "crates" / "behavert-pose" / "tests" / "fixtures"


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Path:
    """`behavert demo --quick`: held-out simulated recordings (DeepLabCut CSV + labels CSV)
    in `data/`, and a fine-tuned tiny model in `finetune/best`."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    _native.run_command(["demo", "--quick", "--output-dir", str(out)])
    return out


@pytest.fixture(scope="session")
def recordings(demo) -> list:
    """(pose file, labels file) pairs of the demo's held-out mice."""
    poses = sorted(p for p in (demo / "data").glob("mouse_*.csv") if not p.stem.endswith("_labels"))
    return [(p, p.with_name(p.stem + "_labels.csv")) for p in poses]


@pytest.fixture(scope="session")
def model_dir(demo) -> Path:
    return demo / "finetune" / "best"


@pytest.fixture(scope="session")
def model(model_dir) -> behavert.Model:
    return behavert.Model.load(model_dir)
