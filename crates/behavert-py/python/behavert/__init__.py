"""BehavERT for Python: behaviour labels and embeddings from pose tracks.

Poses come in as files of any format BehavERT reads or as `movement`-style xarray Datasets;
predictions come out as pandas DataFrames laid out as ``predictions.csv``, embeddings as
float32 numpy arrays. Training and evaluation run the same code as the ``behavert`` command.
The computing parts release the GIL, so threads and Dask's workers label files in parallel.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Union

import numpy as np
import pandas as pd
import xarray as xr

from . import _native
from ._native import BehavertError, __version__

__all__ = [
    "BehavertError",
    "Model",
    "__version__",
    "demo",
    "evaluate",
    "finetune",
    "pretrain",
    "read_pose",
    "write_pose",
]

PathLike = Union[str, "os.PathLike[str]"]
PoseLike = Union[PathLike, xr.Dataset]


def read_pose(path: PathLike, format: Optional[str] = None, fps: Optional[float] = None) -> xr.Dataset:
    """Read a pose file into an xarray Dataset in movement's layout.

    ``position`` is ``[time, space, keypoints, individuals]``, ``confidence``
    ``[time, keypoints, individuals]`` (NaN where the file has none); ``time`` is in seconds
    when the frame rate is known (from the file or ``fps``), else in frames. ``format`` is one
    of the names ``behavert convert --help`` lists; by default it is detected from the content.
    """
    arrays = _native.read_pose(os.fspath(path), format)
    if fps is not None:
        arrays["fps"] = float(fps)
    return _dataset(arrays)


def write_pose(pose: PoseLike, path: PathLike, format: str = "dlc-h5") -> Path:
    """Write a pose (a movement-style Dataset, or a file to convert) as ``format``:
    ``dlc-csv``, ``dlc-h5``, ``sleap-h5`` or ``npy``. An existing file is never replaced."""
    _native.write_pose(_pose_arrays(pose, None), os.fspath(path), format)
    return Path(path)


def _dataset(arrays: Mapping[str, Any]) -> xr.Dataset:
    # Rust's [frames, individuals, keypoints, space] seen as movement's axes: a view, no copy.
    position = np.asarray(arrays["position"]).transpose(0, 3, 2, 1)
    frames, space = position.shape[0], position.shape[1]
    confidence = arrays["confidence"]
    if confidence is None:
        confidence = np.full((frames, position.shape[2], position.shape[3]), np.nan, np.float32)
    else:
        confidence = np.asarray(confidence).transpose(0, 2, 1)
    fps = arrays["fps"]
    time = np.arange(frames) / fps if fps else np.arange(frames)
    attrs = {
        "ds_type": "poses",
        "fps": fps,
        "time_unit": "seconds" if fps else "frames",
        "source_software": arrays["software"],
        "source_file": None if arrays["source"] is None else str(arrays["source"]),
    }
    return xr.Dataset(
        {
            "position": (("time", "space", "keypoints", "individuals"), position),
            "confidence": (("time", "keypoints", "individuals"), confidence),
        },
        coords={
            "time": time,
            "space": ["x", "y", "z"][:space],
            "keypoints": list(arrays["keypoints"]),
            "individuals": list(arrays["individuals"]),
        },
        attrs={k: v for k, v in attrs.items() if v is not None},
    )


def _pose_arrays(pose: PoseLike, fps: Optional[float]) -> dict:
    """The arrays the Rust side takes, from a path or a movement-style Dataset."""
    if not isinstance(pose, xr.Dataset):
        pose = read_pose(pose, fps=fps)
    if "position" not in pose:
        raise BehavertError(
            f"pose Dataset: expected a `position` variable (movement's layout), found {list(pose.data_vars)}"
        )
    position = pose["position"].transpose("time", "individuals", "keypoints", "space")
    confidence = None
    if "confidence" in pose and not bool(pose["confidence"].isnull().all()):
        confidence = pose["confidence"].transpose("time", "individuals", "keypoints").values
        confidence = np.ascontiguousarray(confidence, dtype=np.float32)
    rate = fps if fps is not None else pose.attrs.get("fps")
    source = pose.attrs.get("source_file") or "a pose Dataset"
    return {
        "position": np.ascontiguousarray(position.values, dtype=np.float32),
        "confidence": confidence,
        "individuals": [str(i) for i in pose["individuals"].values],
        "keypoints": [str(k) for k in pose["keypoints"].values],
        "fps": None if rate is None or (isinstance(rate, float) and np.isnan(rate)) else float(rate),
        "origin": str(source),
    }


class Model:
    """A trained checkpoint, for labelling and embedding poses."""

    def __init__(self, native: "_native.Model"):
        self._native = native

    @classmethod
    def load(cls, path: PathLike, device: str = "cpu", precision: str = "f32") -> "Model":
        """Load a checkpoint folder (``config.json``, ``model.safetensors``, ``training.json``).

        ``precision="bf16"`` runs the encoder's matrix products in bf16 on CPUs with AVX-512
        BF16 (faster; logits within about 1e-3 of f32); f32 equals the PyTorch reference.
        """
        return cls(_native.Model.load(os.fspath(path), device, precision))

    @property
    def heads(self) -> list:
        """The heads: name, kind, level (frame or sequence) and output names."""
        return self._native.heads()

    @property
    def window_length(self) -> int:
        """Frames per window the model was trained with."""
        return self._native.window_length

    def predict(
        self,
        pose: PoseLike,
        *,
        fps: Optional[float] = None,
        stride: Optional[int] = None,
        batch_size: int = 16,
    ) -> pd.DataFrame:
        """Per-frame predictions, with the columns of ``predictions.csv``: ``frame``,
        ``time_s`` (NaN when the frame rate is unknown), the label and one probability
        column per behaviour (prefixed by the head's name when there are several heads)."""
        arrays = _pose_arrays(pose, fps)
        columns = self._native.predict_columns(arrays, stride=stride, batch_size=batch_size)
        frames = arrays["position"].shape[0]
        rate = arrays["fps"]
        table = {
            "frame": np.arange(frames),
            "time_s": np.arange(frames) / rate if rate else np.full(frames, np.nan),
        }
        table.update(columns)
        return pd.DataFrame(table)

    def predict_bouts(
        self,
        pose: PoseLike,
        *,
        fps: Optional[float] = None,
        stride: Optional[int] = None,
        batch_size: int = 16,
    ) -> pd.DataFrame:
        """Runs of the first head's likeliest behaviour, with the columns of ``bouts.csv``."""
        arrays = _pose_arrays(pose, fps)
        bouts = self._native.predict_bouts(arrays, stride=stride, batch_size=batch_size)
        table = pd.DataFrame(bouts, columns=["behaviour", "start_frame", "frames", "mean_probability"])
        table.insert(2, "end_frame", table["start_frame"] + table["frames"] - 1)
        rate = arrays["fps"]
        table["start_s"] = table["start_frame"] / rate if rate else np.nan
        table["duration_s"] = table["frames"] / rate if rate else np.nan
        return table[["behaviour", "start_frame", "end_frame", "start_s", "duration_s", "mean_probability"]]

    @property
    def roles(self) -> Optional[dict]:
        """For a model of who did what to whom (trained with ``data.roles``): its slots (the
        most animals a recording may have) and each behaviour's role, ``solo`` or
        ``directed``; ``None`` for a model of frame labels."""
        roles = self._native.roles
        if roles is None:
            return None
        slots, behaviours = roles
        return {"slots": slots, "behaviours": dict(behaviours)}

    def predict_roles(
        self,
        pose: PoseLike,
        *,
        fps: Optional[float] = None,
        stride: Optional[int] = None,
        batch_size: int = 16,
    ) -> pd.DataFrame:
        """Who did what to whom, in long form as ``behavert infer`` writes it for such a
        model: ``frame``, ``time_s``, ``agent``, ``target`` (None for solo behaviours),
        ``behaviour``, ``probability``; frames where the agent or target is untracked have
        no row."""
        arrays = _pose_arrays(pose, fps)
        tracks = self._native.predict_role_tracks(arrays, stride=stride, batch_size=batch_size)
        rate = arrays["fps"]
        parts = []
        for agent, target, behaviour, probability in tracks:
            frames = np.flatnonzero(np.isfinite(probability))
            parts.append(
                pd.DataFrame(
                    {
                        "frame": frames,
                        "time_s": frames / rate if rate else np.full(len(frames), np.nan),
                        "agent": agent,
                        "target": target,
                        "behaviour": behaviour,
                        "probability": probability[frames],
                    }
                )
            )
        columns = ["frame", "time_s", "agent", "target", "behaviour", "probability"]
        if not parts:
            return pd.DataFrame(columns=columns)
        table = pd.concat(parts, ignore_index=True)
        return table.sort_values(["frame"], kind="stable").reset_index(drop=True)[columns]

    def embed(
        self,
        pose: PoseLike,
        *,
        fps: Optional[float] = None,
        stride: Optional[int] = None,
        batch_size: int = 16,
    ) -> np.ndarray:
        """Per-frame embeddings, float32 ``[frames, hidden]``, as ``behavert embed`` writes."""
        arrays = _pose_arrays(pose, fps)
        return self._native.embed(arrays, stride=stride, batch_size=batch_size)


def _command_args(options: Mapping[str, Any]) -> list:
    """``--flag value`` arguments from keyword options, as the command line spells them."""
    args = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            if key == "extra_window_lengths":
                args += [flag, ",".join(str(v) for v in value)]
            elif value:
                args += [flag] + [os.fspath(v) if isinstance(v, os.PathLike) else str(v) for v in value]
        else:
            args += [flag, os.fspath(value) if isinstance(value, os.PathLike) else str(value)]
    return args


def _run(command: str, device: str, options: Mapping[str, Any]) -> None:
    # The command's output goes to the process's stdout and stderr, which Jupyter's kernel
    # shows in the notebook; without a terminal, training prints its progress as lines.
    _native.run_command(["--device", device, command] + _command_args(options))


def demo(output_dir: PathLike, *, quick: bool = False, device: str = "cpu") -> Path:
    """``behavert demo``: simulated mice, pretraining, fine-tuning, held-out evaluation and a
    report in ``output_dir`` (``quick``: a one-minute version). The held-out recordings are
    ``data/mouse_<i>.csv`` (DeepLabCut) with ``data/mouse_<i>_labels.csv``; the model is
    ``finetune/best``."""
    _run("demo", device, {"output_dir": output_dir, "quick": quick})
    return Path(output_dir)


def _pose_files(poses: Iterable[PoseLike], scratch: str) -> list:
    """Paths for a command: files as they are, Datasets written into ``scratch`` first."""
    files = []
    for i, pose in enumerate(poses):
        if isinstance(pose, xr.Dataset):
            pose = write_pose(pose, Path(scratch) / f"pose_{i}.h5", format="dlc-h5")
        files.append(pose)
    return files


def _train(command: str, config, output_dir, device: str, inputs, options: dict) -> Path:
    with tempfile.TemporaryDirectory(prefix="behavert-") as scratch:
        if isinstance(config, Mapping):
            # A dict becomes the TOML file `--config` reads.
            path = Path(scratch) / "config.toml"
            path.write_text(_native.config_toml(json.dumps(config)))
            config = path
        options = {"config": config, "output_dir": output_dir, "input": _pose_files(inputs, scratch), **options}
        _run(command, device, options)
    return Path(output_dir)


def pretrain(
    config: Union[PathLike, Mapping, None] = None,
    *,
    output_dir: PathLike,
    inputs: Iterable[PoseLike] = (),
    device: str = "cpu",
    **options: Any,
) -> Path:
    """Self-supervised pretraining, as ``behavert pretrain``: a config file or dict (the TOML
    layout), unlabelled poses (files or Datasets), and any of the command's flags as keyword options
    (``epochs=2``, ``model_size="tiny"``, ``max_steps=100`` …). Returns the run folder."""
    return _train("pretrain", config, output_dir, device, inputs, options)


def finetune(
    config: Union[PathLike, Mapping, None] = None,
    *,
    output_dir: PathLike,
    inputs: Iterable[PoseLike] = (),
    labels: Iterable[PathLike] = (),
    device: str = "cpu",
    **options: Any,
) -> Path:
    """Supervised fine-tuning, as ``behavert finetune``: a config file or dict, poses (files or
    Datasets) with one labels file each, and any of the command's flags as keyword options
    (``pretrained=run / "best"``, ``epochs=5`` …). Returns the run folder; its ``best/`` is a
    checkpoint for :meth:`Model.load`."""
    return _train("finetune", config, output_dir, device, inputs, {"labels": list(labels), **options})


def evaluate(
    model: PathLike,
    *,
    output_dir: PathLike,
    inputs: Iterable[PoseLike] = (),
    labels: Iterable[PathLike] = (),
    device: str = "cpu",
    **options: Any,
) -> dict:
    """Scores a checkpoint on labelled poses, files or Datasets (or ``dataset=``/``data_dir=``), as
    ``behavert evaluate``; writes metrics, plots and ``report.html`` into ``output_dir`` and
    returns the content of its ``metrics.json``."""
    with tempfile.TemporaryDirectory(prefix="behavert-") as scratch:
        files = _pose_files(inputs, scratch)
        options = {"model": model, "input": files, "labels": list(labels), "output_dir": output_dir, **options}
        _run("evaluate", device, options)
    return json.loads((Path(output_dir) / "metrics.json").read_text())
