"""Checks a BehavERT checkpoint directory against the PyTorch reference.

The directory holds config.json, model.safetensors, inputs.safetensors and
expected.safetensors in the layout scripts/reference/behavert_torch.py writes. The weights are
loaded into the reference network with strict=True (every name and shape must match), the
inputs are run in eval mode, and each output is compared with the expected one:
max relative error (||out - ref|| / ||ref||) <= 1e-4.

Used in the reverse direction of the Rust equivalence test: a checkpoint written by BehavERT
(`cargo run -p behavert --release --example export_reference_fixture -- DIR`) must load in
PyTorch and compute the same outputs there.

    pip install -r scripts/reference/requirements.txt
    python scripts/check_pytorch_equivalence.py DIR
"""
import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file


def main():
    p = argparse.ArgumentParser()
    p.add_argument("checkpoint")
    a = p.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
    from behavert_torch import BehavERT

    with open(os.path.join(a.checkpoint, "config.json")) as fh:
        cfg = json.load(fh)
    model = BehavERT(cfg).eval()
    model.load_state_dict(load_file(os.path.join(a.checkpoint, "model.safetensors")), strict=True)
    inputs = load_file(os.path.join(a.checkpoint, "inputs.safetensors"))
    expected = load_file(os.path.join(a.checkpoint, "expected.safetensors"))
    with torch.no_grad():
        out = model(inputs["keypoints"], inputs["attention_mask"], inputs["masked"])
    worst = 0.0
    for name, ref in expected.items():
        # Fixtures of the single-head layout name the logits without their head.
        got = out.get(name, out.get(f"{name}.{name.split('_')[0]}"))
        assert got.shape == ref.shape, f"{name}: shape {tuple(got.shape)} != {tuple(ref.shape)}"
        assert torch.isfinite(got).all(), f"{name}: non-finite values"
        err = (torch.linalg.norm(got - ref) / torch.linalg.norm(ref)).item()
        worst = max(worst, err)
        print(f"{name}: relative error {err:.3e}")
    ok = worst <= 1e-4
    print("OK" if ok else "FAIL", f"(worst {worst:.3e}, tolerance 1e-4)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
