"""The BehavERT network in PyTorch: the function the Rust model computes, from the same files.

Its parameters carry exactly the names of a BehavERT `model.safetensors`, and it reads the
same `config.json` (docs/architecture.md, "The model contract"): either a `heads` list (name,
level `frame`/`sequence`, kind, outputs), as BehavERT writes it, or the single-head layout
`num_frame_classes` / `num_sequence_classes`, whose heads are named `frame` and `sequence`.
The encoder is Hugging Face's `BertEncoder`, so weights under `encoder.` are standard BERT
weights.

Run as a script it writes an equivalence fixture: a config, random weights, inputs and the
outputs this network computes from them, for crates/behavert/tests/reference_equivalence.rs.

    pip install -r scripts/reference/requirements.txt
    python scripts/reference/behavert_torch.py OUT_DIR [--seed 1]

Files written into OUT_DIR:
    config.json           the model config
    model.safetensors     every parameter, float32
    inputs.safetensors    keypoints [B, T, F] f32; attention_mask [B, T] i64 (1 = real frame,
                          0 = padding); masked [B, T] i64 (1 = shown as the mask token)
    expected.safetensors  hidden [B, T+1, H] (index 0 is the CLS token), reconstruction
                          [B, T, F], and per head `frame_logits.<name>` [B, T, outputs] or
                          `sequence_logits.<name>` [B, outputs]
"""

import argparse
import json
import os

import torch
from torch import nn
from transformers import BertConfig
from transformers.models.bert.modeling_bert import BertEncoder

# Names the head modules may not take: they are the fixed parts of `heads.`.
RESERVED = {"pooler", "reconstruction"}


def head_list(config):
    """The heads of a config as (name, level, outputs), frame heads first, in file order."""
    if config.get("heads"):
        heads = [(h["name"], h["level"], h["outputs"]) for h in config["heads"]]
    else:
        heads = [("frame", "frame", config["num_frame_classes"]),
                 ("sequence", "sequence", config["num_sequence_classes"])]
    for name, _, _ in heads:
        if name in RESERVED:
            raise ValueError(f"head name {name!r} is reserved")
    return ([h for h in heads if h[1] == "frame"] + [h for h in heads if h[1] == "sequence"])


class TokenEmbedding(nn.Module):
    """Pose frames to tokens: a linear map of each frame's features; masked frames become the
    mask token; a CLS token in front; learned positions (0 = CLS); LayerNorm; dropout."""

    def __init__(self, config):
        super().__init__()
        width = config["hidden_size"]
        self.keypoint_projection = nn.Linear(config["input_dim"], width)
        self.cls_token = nn.Parameter(torch.zeros(width))
        self.mask_token = nn.Parameter(torch.zeros(width))
        self.position_embeddings = nn.Embedding(config["max_position_embeddings"], width)
        self.LayerNorm = nn.LayerNorm(width, eps=config["layer_norm_eps"])
        self.dropout = nn.Dropout(config["hidden_dropout_prob"])

    def forward(self, keypoints, masked):
        batch, frames, _ = keypoints.shape
        tokens = self.keypoint_projection(keypoints)
        hide = masked.bool()[..., None]
        tokens = torch.where(hide, self.mask_token[None, None, :], tokens)
        cls = self.cls_token[None, None, :].expand(batch, 1, -1)
        tokens = torch.cat([cls, tokens], dim=1)
        positions = self.position_embeddings.weight[: frames + 1]
        return self.dropout(self.LayerNorm(tokens + positions[None]))


class Reconstruction(nn.Module):
    """Masked-frame pretraining head: dense, GELU, LayerNorm, then a linear map back to the
    frame's features."""

    def __init__(self, config):
        super().__init__()
        width = config["hidden_size"]
        self.transform = nn.ModuleDict({
            "dense": nn.Linear(width, width),
            "LayerNorm": nn.LayerNorm(width, eps=config["layer_norm_eps"]),
        })
        self.decoder = nn.Linear(width, config["input_dim"])

    def forward(self, frames):
        hidden = nn.functional.gelu(self.transform["dense"](frames))
        return self.decoder(self.transform["LayerNorm"](hidden))


class BehavERT(nn.Module):
    """Embeddings, a post-LN BERT encoder, and the heads: one linear map per frame head on
    each frame's hidden state; tanh(pooler(CLS)) then one linear map per sequence head; the
    reconstruction head."""

    def __init__(self, config, attention="eager"):
        super().__init__()
        self.config = config
        self.embeddings = TokenEmbedding(config)
        encoder_config = BertConfig(
            hidden_size=config["hidden_size"],
            num_hidden_layers=config["num_hidden_layers"],
            num_attention_heads=config["num_attention_heads"],
            intermediate_size=config["intermediate_size"],
            hidden_act=config["hidden_act"],
            hidden_dropout_prob=config["hidden_dropout_prob"],
            attention_probs_dropout_prob=config["attention_probs_dropout_prob"],
            layer_norm_eps=config["layer_norm_eps"],
            max_position_embeddings=config["max_position_embeddings"],
        )
        # "eager" is the textbook formula (fixtures); "sdpa" PyTorch's fused kernel (speed).
        encoder_config._attn_implementation = attention
        self.encoder = BertEncoder(encoder_config)
        width = config["hidden_size"]
        self.head_specs = head_list(config)
        layers = {name: nn.Linear(width, outputs) for name, _, outputs in self.head_specs}
        layers["pooler"] = nn.Linear(width, width)
        layers["reconstruction"] = Reconstruction(config)
        self.heads = nn.ModuleDict(layers)

    def forward(self, keypoints, attention_mask, masked):
        tokens = self.embeddings(keypoints, masked)
        real = torch.cat([torch.ones_like(attention_mask[:, :1]), attention_mask], dim=1)
        # Keys that are padding get the most negative float added before the softmax.
        blocked = (real[:, None, None, :] == 0).to(tokens.dtype)
        additive = blocked * torch.finfo(tokens.dtype).min
        hidden = self.encoder(tokens, attention_mask=additive).last_hidden_state
        frames = hidden[:, 1:]
        clip = torch.tanh(self.heads["pooler"](hidden[:, 0]))
        outputs = {"hidden": hidden, "reconstruction": self.heads["reconstruction"](frames)}
        for name, level, _ in self.head_specs:
            source = frames if level == "frame" else clip
            outputs[f"{level}_logits.{name}"] = self.heads[name](source)
        return outputs


def fixture_config(input_dim, hidden, layers, attention_heads, intermediate, max_frames):
    """A config with one head of each kind and level BehavERT knows."""
    return {
        "model_type": "behavert",
        "input_dim": input_dim,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": attention_heads,
        "intermediate_size": intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": max_frames + 1,
        "num_frame_classes": 0,
        "num_sequence_classes": 0,
        "heads": [
            {"name": "behaviour", "level": "frame", "kind": "multiclass", "outputs": 5},
            {"name": "grooming", "level": "frame", "kind": "multilabel", "outputs": 2},
            {"name": "strain", "level": "sequence", "kind": "multiclass", "outputs": 3},
            {"name": "speed", "level": "sequence", "kind": "regression", "outputs": 1},
        ],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--input-dim", type=int, default=22)
    parser.add_argument("--hidden", type=int, default=48)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--attention-heads", type=int, default=6)
    parser.add_argument("--intermediate", type=int, default=96)
    parser.add_argument("--max-frames", type=int, default=64)
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--frames", type=int, default=24)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    config = fixture_config(args.input_dim, args.hidden, args.layers, args.attention_heads,
                            args.intermediate, args.max_frames)
    model = BehavERT(config).eval()
    # Every parameter random and away from its initial value (LayerNorm gains near 1), so a
    # term the Rust side dropped or transposed shows in the outputs.
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.copy_(torch.randn_like(parameter) * 0.05
                            + (1.0 if name.endswith("LayerNorm.weight") else 0.0))

    batch, frames = args.batch, args.frames
    keypoints = torch.randn(batch, frames, args.input_dim)
    attention_mask = torch.ones(batch, frames, dtype=torch.int64)
    # Clips that end early: the second by a third, the last by half.
    if batch > 1:
        attention_mask[1, frames - frames // 3:] = 0
    if batch > 2:
        attention_mask[-1, frames // 2:] = 0
    masked = (torch.rand(batch, frames) < 0.2).to(torch.int64)
    masked[:, 0] = 1

    with torch.no_grad():
        outputs = model(keypoints, attention_mask, masked)

    from safetensors.torch import save_file

    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "config.json"), "w") as file:
        json.dump(config, file, indent=2)
        file.write("\n")
    save_file({name: tensor.contiguous() for name, tensor in model.state_dict().items()},
              os.path.join(args.out_dir, "model.safetensors"))
    save_file({"keypoints": keypoints, "attention_mask": attention_mask, "masked": masked},
              os.path.join(args.out_dir, "inputs.safetensors"))
    save_file({name: tensor.contiguous() for name, tensor in outputs.items()},
              os.path.join(args.out_dir, "expected.safetensors"))
    print("wrote", args.out_dir, {name: tuple(t.shape) for name, t in outputs.items()})


if __name__ == "__main__":
    main()
