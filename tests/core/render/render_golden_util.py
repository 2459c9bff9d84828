"""Helpers shared by the render tests: golden loading, rendering, metrics (same as compare.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from scail_pose_core.render.backend_torch import CameraParams
from scail_pose_core.render.depth import DepthConstants
from scail_pose_core.render.scene import FrameCapsules

GOLDEN_CASES = ("syn_capsule", "syn_occlusion", "syn_near", "scail_001", "dwpose_demo")
OVERLAY_CASES = ("scail_001_noalign", "scail_001_align")


def load_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def camera_of(d: dict, key: str = "intrinsics") -> CameraParams:
    k = np.asarray(d[key], np.float64)
    h, w = d["size_hw"]
    return CameraParams(float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2]), (h, w))


def golden_capsules(frame: dict) -> FrameCapsules:
    caps = frame["capsules"]
    if not caps:
        return FrameCapsules.empty()
    return FrameCapsules.from_arrays(
        [c["start"] for c in caps],
        [c["end"] for c in caps],
        [c["rgba"] for c in caps],
        [c["limb"] for c in caps],
        [c["person"] for c in caps],
    )


def golden_depth(d: dict) -> DepthConstants:
    return DepthConstants.from_dict(d["global_depth"])


def read_rgba(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def write_rgba(path: Path, rgba: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(path)


def metrics(golden: np.ndarray, cand: np.ndarray, tol: int = 2, fg_tol: int = 8) -> dict:
    """The per-frame metrics of ../shared/golden/compare.py, re-implemented."""
    g, c = golden.astype(np.int16), cand.astype(np.int16)
    d = np.abs(g - c)
    dmax = d.max(-1)
    gm, cm = g[..., 3] > 0, c[..., 3] > 0
    fg = gm | cm
    n = int(fg.sum())
    return {
        "within_all": float((dmax <= tol).mean()),
        "within_fg": float((dmax[fg] <= tol).mean()) if n else 1.0,
        "fg_loose": float((dmax[fg] <= fg_tol).mean()) if n else 1.0,
        "fg_mean": float(d[..., :3][fg].mean()) if n else 0.0,
        "iou": float((gm & cm).sum() / n) if n else 1.0,
    }


def passes_defaults(m: dict) -> bool:
    return (
        m["within_all"] >= 0.99
        and m["iou"] >= 0.995
        and m["fg_loose"] >= 0.99
        and m["fg_mean"] <= 2.0
    )
