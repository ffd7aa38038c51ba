"""PyTorch side of the speed comparison (crates/behavert/benches): the same network
(behavert_torch.py, PyTorch's fused "sdpa" attention) on the CPU, with the same thread count.

One training step is forward, frame cross-entropy plus masked-frame squared error, backward and
AdamW; inference is eval mode without autograd; `matmul` is the feed-forward layer's matrix
product alone (every position of the batch, CLS included, times the inner weight) in f32.
After `--warmup` untimed repetitions it times `--iters` and prints one JSON line with the
median.

    pip install -r scripts/reference/requirements.txt
    python scripts/reference/torch_bench.py --size small --batch 16 --frames 256 --mode train

Sizes are configs/model/*.toml: tiny, small, base. `--profile` prints, instead, where the
timed steps spend their time per operation (torch.profiler, self CPU time), the PyTorch column
of the per-operation profile in docs/benchmarks.md.
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from behavert_torch import BehavERT  # noqa: E402

SIZES = {
    "tiny": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
             "intermediate_size": 128},
    "small": {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4,
              "intermediate_size": 1024},
    "base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
             "intermediate_size": 3072},
}


def timed(repetitions, warmup, step):
    """Median seconds of `step()` over `repetitions` after `warmup` untimed calls."""
    times = []
    for i in range(warmup + repetitions):
        start = time.perf_counter()
        step()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=SIZES, default="small")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--frames", type=int, default=256)
    parser.add_argument("--features", type=int, default=28)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--mode", choices=["train", "infer", "matmul"], default="train")
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--attention", choices=["sdpa", "eager"], default="sdpa")
    parser.add_argument("--precision", choices=["f32", "bf16"], default="f32",
                        help="bf16 runs the forward (and a training step's loss) under CPU "
                        "autocast: mixed precision, parameters and optimizer f32")
    parser.add_argument("--profile", action="store_true",
                        help="print self CPU time per operation instead of the JSON line")
    parser.add_argument("--threads", type=int,
                        default=int(os.environ.get("RAYON_NUM_THREADS", "2")))
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = {
        "model_type": "behavert", "input_dim": args.features, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "layer_norm_eps": 1e-12, "max_position_embeddings": args.frames + 1,
        "num_frame_classes": args.classes, "num_sequence_classes": 2, **SIZES[args.size],
    }
    model = BehavERT(config, attention=args.attention)
    batch, frames, features = args.batch, args.frames, args.features
    keypoints = torch.randn(batch, frames, features)
    labels = torch.randint(0, args.classes, (batch, frames))
    attention_mask = torch.ones(batch, frames, dtype=torch.int64)
    masked = (torch.rand(batch, frames) < 0.15).to(torch.int64)

    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16")
    if args.mode == "train":
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
        hidden = masked[..., None].float()

        def step():
            optimizer.zero_grad(set_to_none=True)
            with autocast:
                out = model(keypoints, attention_mask, masked)
                logits = out["frame_logits.frame"].reshape(-1, args.classes)
                classes = F.cross_entropy(logits, labels.reshape(-1))
                squared = ((out["reconstruction"] - keypoints) ** 2 * hidden).sum()
                loss = classes + squared / (hidden.sum() * features)
            loss.backward()
            optimizer.step()
    elif args.mode == "matmul":
        width, inner = SIZES[args.size]["hidden_size"], SIZES[args.size]["intermediate_size"]
        tokens = torch.randn(batch * (frames + 1), width)
        weight = torch.randn(width, inner)

        def step():
            with torch.inference_mode():
                torch.mm(tokens, weight)
    else:
        model.eval()

        def step():
            with torch.inference_mode(), autocast:
                model(keypoints, attention_mask, masked)["frame_logits.frame"].sum().item()

    if args.profile:
        profile(args, step)
        return
    median = timed(args.iters, args.warmup, step)
    print(json.dumps({
        "impl": "pytorch", "torch": torch.__version__, "size": args.size, "mode": args.mode,
        "precision": args.precision,
        "batch": batch, "frames": frames, "threads": args.threads,
        "median_ms": round(median * 1e3, 2), "frames_per_s": round(batch * frames / median, 1),
        "params": sum(p.numel() for p in model.parameters()),
    }))


def profile(args, step):
    """Self CPU time per operation over `--iters` steps after `--warmup`, largest first."""
    for _ in range(args.warmup):
        step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(args.iters):
            step()
    events = [e for e in prof.key_averages() if e.self_cpu_time_total > 0]
    total = sum(e.self_cpu_time_total for e in events)
    events.sort(key=lambda e: e.self_cpu_time_total, reverse=True)
    print(f"{args.size} {args.batch}x{args.frames} {args.mode}: "
          f"{total / 1e3 / args.iters:.1f} ms per step (self CPU time)")
    for event in events[:20]:
        share = 100 * event.self_cpu_time_total / total
        print(f"{share:5.1f}%  {event.self_cpu_time_total / 1e3 / args.iters:8.2f} ms  {event.key}")


if __name__ == "__main__":
    main()
