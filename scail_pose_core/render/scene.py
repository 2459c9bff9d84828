"""Pose sequence → per-frame capsule lists, exactly as the reference builds them (spec §5.1, §7).

Per frame, for each 3D person slot in order (person 0 first), the SMPL-24 joints are mapped to
OpenPose-18 and limbs 0–12 are visited in the draw order 0, 2, 3, 1, 4, 5, …, 12. A limb gives a
capsule unless one of its endpoints' coordinates **sum** to exactly 0 (float32 ``np.sum``, as
the reference). The capsule list order decides exact ties in the renderer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..skeletons import openpose as op
from ..skeletons import smpl
from ..types import Pose3D, PoseSequence
from .style import character_render_colors, resolve_palette

#: Capsule radius in millimetres (reference_spec.md §5.3).
CAPSULE_RADIUS_MM = 21.5
#: Limbs that can become capsules, in list order.
CAPSULE_LIMB_ORDER: tuple[int, ...] = tuple(i for i in op.LIMB_DRAW_ORDER if i in op.LIMBS_3D)


@dataclass(frozen=True)
class FrameCapsules:
    """The capsules of one frame, in the reference's list order.

    Fields (N capsules):
        starts, ends: (N, 3) float32 camera-space endpoints (mm).
        rgba: (N, 4) float32 render colours (c/300 + 0.15, alpha 0.8).
        limbs: (N,) int32 limb id 0–12.
        persons: (N,) int32 person slot in the frame's :class:`Pose3D`.
    """

    starts: np.ndarray
    ends: np.ndarray
    rgba: np.ndarray
    limbs: np.ndarray
    persons: np.ndarray

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    @classmethod
    def empty(cls) -> FrameCapsules:
        z3 = np.zeros((0, 3), np.float32)
        zi = np.zeros((0,), np.int32)
        return cls(z3, z3.copy(), np.zeros((0, 4), np.float32), zi, zi.copy())

    @classmethod
    def from_arrays(
        cls,
        starts: np.ndarray,
        ends: np.ndarray,
        rgba: np.ndarray,
        limbs: np.ndarray | None = None,
        persons: np.ndarray | None = None,
    ) -> FrameCapsules:
        """Build from explicit arrays (e.g. a golden ``capsules[]`` list); casts to float32."""
        s = np.asarray(starts, np.float32).reshape(-1, 3)
        e = np.asarray(ends, np.float32).reshape(-1, 3)
        c = np.asarray(rgba, np.float32).reshape(-1, 4)
        n = s.shape[0]
        if e.shape[0] != n or c.shape[0] != n:
            raise InputError(
                f"capsule arrays disagree: {n} starts, {e.shape[0]} ends, {c.shape[0]} colours"
            )
        lim = np.zeros(n, np.int32) if limbs is None else np.asarray(limbs, np.int32).reshape(n)
        per = np.zeros(n, np.int32) if persons is None else np.asarray(persons, np.int32).reshape(n)
        return cls(s, e, c, lim, per)


def _endpoint_is_zero(p: np.ndarray) -> bool:
    """The reference's skip rule: the float32 sum of the 3 coordinates equals 0."""
    return bool(np.sum(p) == 0)


def person_capsules(
    joints_smpl24: np.ndarray, colors: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Capsules of one person.

    Args:
        joints_smpl24: (24, 3) camera-space mm (cast to float32).
        colors: (13, 4) float32 render colours of limbs 0–12.

    Returns:
        starts (n, 3) float32, ends (n, 3) float32, rgba (n, 4) float32, limbs (n,) int32 —
        in draw order, skipped limbs left out.
    """
    j = np.asarray(joints_smpl24, dtype=np.float32)
    op18 = smpl.smpl24_to_openpose18(j)
    s, e, c, lim = [], [], [], []
    for limb in CAPSULE_LIMB_ORDER:
        a_idx, b_idx = op.LIMBS[limb]
        a, b = op18[a_idx], op18[b_idx]
        if _endpoint_is_zero(a) or _endpoint_is_zero(b):
            continue
        s.append(a)
        e.append(b)
        c.append(colors[limb])
        lim.append(limb)
    if not s:
        return (np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32),
                np.zeros((0, 4), np.float32), np.zeros((0,), np.int32))  # fmt: skip
    return (np.stack(s).astype(np.float32), np.stack(e).astype(np.float32),
            np.stack(c).astype(np.float32), np.asarray(lim, np.int32))  # fmt: skip


def character_of(pose: Pose3D, slot: int) -> int:
    """Identity used for the palette: the track id when assigned (≥ 0), else the slot index."""
    tid = int(pose.track_ids[slot])
    return tid if tid >= 0 else slot


def frame_capsules(pose: Pose3D | None, palette: str) -> FrameCapsules:
    """All persons' capsules of one frame (person 0 first), ``palette`` already resolved.

    Persons whose ``present`` flag is False are skipped (their joints are zeros in the
    reference, which produces no capsule either).
    """
    if pose is None or pose.num_people == 0:
        return FrameCapsules.empty()
    parts = []
    for slot in range(pose.num_people):
        if not bool(pose.present[slot]):
            continue
        colors = character_render_colors(character_of(pose, slot), palette)
        s, e, c, lim = person_capsules(pose.joints_mm[slot], colors)
        if len(lim):
            parts.append((s, e, c, lim, np.full(len(lim), slot, np.int32)))
    if not parts:
        return FrameCapsules.empty()
    return FrameCapsules(*(np.concatenate([p[k] for p in parts]) for k in range(5)))


def max_people_3d(seq: PoseSequence) -> int:
    """Largest number of present 3D persons in any frame."""
    best = 0
    for f in seq.frames:
        if f.pose3d is not None:
            best = max(best, int(np.count_nonzero(f.pose3d.present)))
    return best


def sequence_capsules(seq: PoseSequence, palette: str = "auto") -> list[FrameCapsules]:
    """One :class:`FrameCapsules` per frame of ``seq`` (empty where there is no 3D pose)."""
    pal = resolve_palette(palette, max_people_3d(seq))
    return [frame_capsules(f.pose3d, pal) for f in seq.frames]


def capsules_from_poses(poses: Sequence[Pose3D | None], palette: str) -> list[FrameCapsules]:
    """Capsule lists of raw per-frame poses (``palette`` ``"auto"`` resolved over ``poses``)."""
    most = max((int(np.count_nonzero(p.present)) for p in poses if p is not None), default=0)
    pal = resolve_palette(palette, most)
    return [frame_capsules(p, pal) for p in poses]
