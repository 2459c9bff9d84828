"""Video-global depth constants of the renderer (reference_spec.md §5.3).

They are computed over **all capsule endpoints of all frames** before any frame is rendered,
so a long video rendered in chunks looks exactly like one rendered in one go (and, as in the
reference, the brightness of a frame depends on the other frames). All values are float32
numbers, as the reference kernel used them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .scene import FrameCapsules

ZNEAR = 0.1
ZFAR_MIN, ZFAR_MAX = 10000.0, 25000.0
DEPTH_FAR_OFFSET, DEPTH_FAR_MAX = 6000.0, 20000.0


@dataclass(frozen=True)
class DepthConstants:
    """z_min/z_max of all endpoints (mm), ``znear`` = 0.1, ``zfar`` = clamp(z_max, 1e4, 2.5e4),
    ``depth_near`` = max(z_min, 0.1), ``depth_far`` = min(z_max + 6000, 20000) (float32 maths)."""

    z_min: float
    z_max: float
    znear: float
    zfar: float
    depth_near: float
    depth_far: float

    @classmethod
    def from_z_range(cls, z_min: float, z_max: float) -> DepthConstants:
        f = np.float32
        zmin, zmax = f(z_min), f(z_max)
        zfar = max(min(zmax, f(ZFAR_MAX)), f(ZFAR_MIN))
        depth_near = max(zmin, f(ZNEAR))
        depth_far = min(f(zmax + f(DEPTH_FAR_OFFSET)), f(DEPTH_FAR_MAX))
        return cls(
            float(zmin), float(zmax), ZNEAR, float(zfar), float(depth_near), float(depth_far)
        )

    @classmethod
    def from_dict(cls, d: dict) -> DepthConstants:
        """From a golden ``global_depth`` dict (extra keys ignored)."""
        return cls(
            *(float(d[k]) for k in ("z_min", "z_max", "znear", "zfar", "depth_near", "depth_far"))
        )


def depth_constants(frames: Iterable[FrameCapsules]) -> DepthConstants | None:
    """Constants over every endpoint of every frame; ``None`` when there is no capsule at all
    (the reference crashes there; we render black frames)."""
    zmin, zmax = np.inf, -np.inf
    for fc in frames:
        if len(fc):
            z = np.concatenate([fc.starts[:, 2], fc.ends[:, 2]])
            zmin = min(zmin, float(z.min()))
            zmax = max(zmax, float(z.max()))
    if not np.isfinite(zmin):
        return None
    return DepthConstants.from_z_range(zmin, zmax)
