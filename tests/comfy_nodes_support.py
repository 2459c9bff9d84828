"""Helpers of the node and graph tests: call nodes the way ComfyUI does, stand-in models, frames.

``run_node(cls, **values)`` mirrors ComfyUI's path for one node: build the schema (GET_SCHEMA),
fill widget defaults, check widget values like ``execution.validate_inputs`` (combo membership,
min/max, skipped for the inputs ``validate_inputs`` takes), call ``validate_inputs`` then
``execute``.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

#: Frames of the node/graph tests: landscape, half the reference size (fast on 2 cores).
FRAME_HW = (256, 448)
#: The planted person, pixels xyxy of a FRAME_HW frame.
PERSON_BOX = (180.0, 40.0, 270.0, 230.0)


class ValidationError(AssertionError):
    """A value ComfyUI would refuse before running the graph."""


def input_ids(schema) -> list[str]:
    return [i.id for i in schema.inputs or []]


def _overrides(cls, name: str) -> bool:
    """True when the node itself defines ``name`` (not ComfyUI's base class)."""
    impl = getattr(cls, name, None)
    func = getattr(impl, "__func__", impl)
    return func is not None and not getattr(func, "__module__", "").startswith("comfy_api")


def validate_widgets(cls, values: dict, require_sockets: bool = True) -> dict:
    """Defaults filled in and widget values checked as ComfyUI does; returns the full kwargs."""
    schema = cls.GET_SCHEMA()
    kwargs = dict(values)
    vfunc_args: set[str] = set()
    if _overrides(cls, "validate_inputs"):
        vfunc_args = set(inspect.signature(cls.validate_inputs).parameters)
    for inp in schema.inputs or []:
        default = getattr(inp, "default", None)
        if inp.id not in kwargs:
            if default is not None:
                kwargs[inp.id] = default
            elif require_sockets and not inp.optional and not hasattr(inp, "default"):
                raise ValidationError(f"{schema.node_id}: required input {inp.id} missing")
            continue
        v = kwargs[inp.id]
        if inp.id in vfunc_args or not hasattr(inp, "default"):
            continue
        opts = getattr(inp, "options", None)
        if opts is not None and v not in opts:
            raise ValidationError(f"{schema.node_id}.{inp.id}: {v!r} not in {opts}")
        lo, hi = getattr(inp, "min", None), getattr(inp, "max", None)
        if lo is not None and v < lo or hi is not None and v > hi:
            raise ValidationError(f"{schema.node_id}.{inp.id}: {v} outside [{lo}, {hi}]")
    if vfunc_args:
        res = cls.validate_inputs(**{k: kwargs.get(k) for k in vfunc_args})
        if res is not True:
            raise ValidationError(f"{schema.node_id}: {res}")
    return kwargs


def run_node(cls, **values):
    """Schema, validation, then execute (through a per-run class clone like ComfyUI)."""
    kwargs = validate_widgets(cls, values)
    out = cls.execute(**kwargs)
    return out


def figure_frames(n: int, size_hw: tuple[int, int] = FRAME_HW, box=PERSON_BOX) -> np.ndarray:
    """(n, H, W, 3) uint8: black frames with a grey "person" in ``box`` carrying the DWPose
    stand-in's colour markers (the NLF stand-in finds the grey region); a 1-pixel frame
    counter keeps frames distinct."""
    from standin_onnx import draw_person_markers

    h, w = size_hw
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    one = np.zeros((h, w, 3), np.uint8)
    one[y1:y2, x1:x2] = 70
    draw_person_markers(one, (x1, y1, x2, y2))
    out = np.repeat(one[None], n, axis=0)
    out[:, 0, 0, 0] = np.arange(n) % 50 + 1
    return out


def to_image(frames: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(frames)).float().div(255.0)


def build_standin_models(models_dir: Path, size_hw: tuple[int, int] = FRAME_HW,
                         boxes=(PERSON_BOX,)) -> None:  # fmt: skip
    """YOLOX/DWPose stand-ins in ``models_dir/detection``, NLF in ``models_dir/nlf`` (real names).

    The YOLOX stand-in reports ``boxes`` (pixels of a ``size_hw`` frame) in every frame."""
    from standin_nlf import build_nlf_standin
    from standin_onnx import build_dwpose_standin, build_yolox_standin

    from scail_pose_core.detection.yolox import letterbox_ratio
    from scail_pose_core.weights import WEIGHTS

    det, nlf = models_dir / "detection", models_dir / "nlf"
    det.mkdir(parents=True, exist_ok=True)
    nlf.mkdir(parents=True, exist_ok=True)
    r, _ = letterbox_ratio(size_hw)
    build_yolox_standin(det / WEIGHTS["yolox_l"].filename, [[v * r for v in b] for b in boxes],
                        dynamic_batch=True)  # fmt: skip
    build_dwpose_standin(det / WEIGHTS["dwpose"].filename)
    build_nlf_standin(nlf / WEIGHTS["nlf"].filename)
