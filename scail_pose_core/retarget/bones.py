"""Bone lengths along the SMPL-24 kinematic tree and rebuilding a motion with new lengths.

A bone is (PARENTS[j] → j) for every non-root joint j, so bone arrays are indexed by the child
joint (row 0, the pelvis/root, is unused and 0). Joints are camera-space mm, (…, 24, 3).

Everything is vectorised across frames: the tree is walked once per joint (23 steps), each step
a handful of (T, 3) array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..skeletons import smpl

PARENTS = smpl.PARENTS
NUM_JOINTS = smpl.NUM_JOINTS

#: For each SMPL child joint j, the OpenPose-18 points that must be visible in the reference 2D
#: for the bone (PARENTS[j] → j) to count as "shown" in the reference image.
BONE_REQUIRES_OP18: dict[int, tuple[int, ...]] = {
    1: (11,), 2: (8,), 3: (8, 11), 4: (11, 12), 5: (8, 9), 6: (1, 8, 11), 7: (12, 13),
    8: (9, 10), 9: (1, 8, 11), 10: (13,), 11: (10,), 12: (1,), 13: (1, 5), 14: (1, 2),
    15: (1, 0), 16: (5,), 17: (2,), 18: (5, 6), 19: (2, 3), 20: (6, 7), 21: (3, 4), 22: (7,),
    23: (4,),
}  # fmt: skip

#: Leg bones (child joints): hip→knee, knee→ankle, ankle→foot, both sides.
LEG_BONES: tuple[int, ...] = (4, 5, 7, 8, 10, 11)
#: Thigh and shin bones, used for the leg-length ratio of the root trajectory.
THIGH_SHIN: tuple[int, ...] = (4, 5, 7, 8)


def _check_joints(joints: np.ndarray, name: str) -> np.ndarray:
    j = np.asarray(joints, dtype=np.float64)
    if j.ndim < 2 or j.shape[-2:] != (NUM_JOINTS, 3):
        raise InputError(f"{name}: expected SMPL-24 joints of shape (..., 24, 3), got {j.shape}")
    return j


def bone_vectors(joints: np.ndarray) -> np.ndarray:
    """(…, 24, 3) joints → (…, 24, 3) bone vectors joint − parent (row 0 = 0)."""
    j = _check_joints(joints, "bone_vectors")
    out = j - j[..., np.maximum(PARENTS, 0), :]
    out[..., 0, :] = 0.0
    return out


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """(…, 24, 3) joints → (…, 24) bone lengths in mm (index = child joint; [0] = 0)."""
    return np.linalg.norm(bone_vectors(joints), axis=-1)


def typical_lengths(joints: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Median bone lengths (24,) over the valid frames of a (T, 24, 3) motion."""
    j = _check_joints(joints, "typical_lengths")
    if j.ndim == 2:
        return bone_lengths(j)
    lengths = bone_lengths(j)
    if valid is not None:
        lengths = lengths[np.asarray(valid, bool)]
    if lengths.shape[0] == 0:
        raise InputError("typical_lengths: no valid frame to measure bone lengths on")
    return np.median(lengths, axis=0)


@dataclass(frozen=True)
class ReferenceLengths:
    """Bone lengths of the reference character and how they were obtained.

    Fields:
        lengths: (24,) mm, index = child joint ([0] = 0).
        measured: (24,) bool, True where the length was measured on the reference 3D pose.
        ratio: the scale applied to the driver's lengths for the bones not measured
            (sum of measured reference lengths / sum of the driver's lengths of the same bones).
        hidden: names of the bones that were not measured (child joint names).
    """

    lengths: np.ndarray
    measured: np.ndarray
    ratio: float
    hidden: tuple[str, ...]


def reference_lengths(
    ref_joints_mm: np.ndarray,
    driver_lengths: np.ndarray,
    ref_visible_op18: np.ndarray | None = None,
    plausible_ratio: tuple[float, float] = (0.3, 3.0),
) -> ReferenceLengths:
    """Measure the reference character's bone lengths, filling the bones it does not show.

    Args:
        ref_joints_mm: (24, 3) the reference character's SMPL-24 3D pose (mm).
        driver_lengths: (24,) the driver's typical bone lengths (mm).
        ref_visible_op18: (≥14,) bool, which OpenPose-18 points the reference image shows
            (2D score > 0.3); None = trust every 3D bone.
        plausible_ratio: a measured bone whose length / the driver's lies outside this range
            (or that is < 1 mm, or whose endpoints are zero) counts as not shown.

    Returns:
        :class:`ReferenceLengths`; bones not shown get driver length × ratio, where ratio is
        computed over the shown bones (1.0 if none is shown).
    """
    ref = _check_joints(ref_joints_mm, "reference_lengths")
    if ref.ndim != 2:
        raise InputError(f"reference_lengths: expected one pose (24, 3), got {ref.shape}")
    drv = np.asarray(driver_lengths, dtype=np.float64).reshape(NUM_JOINTS)
    lengths = bone_lengths(ref)
    zero_joint = np.all(ref == 0.0, axis=-1)
    ok = np.zeros(NUM_JOINTS, bool)
    for j in range(1, NUM_JOINTS):
        good = not (zero_joint[j] or zero_joint[PARENTS[j]]) and lengths[j] >= 1.0
        good = good and drv[j] > 0
        if good:
            r = lengths[j] / drv[j]
            good = plausible_ratio[0] <= r <= plausible_ratio[1]
        if good and ref_visible_op18 is not None:
            vis = np.asarray(ref_visible_op18, bool)
            good = all(bool(vis[i]) for i in BONE_REQUIRES_OP18[j])
        ok[j] = good
    denom = float(np.sum(drv[ok]))
    ratio = float(np.sum(lengths[ok]) / denom) if denom > 0 else 1.0
    out = np.where(ok, lengths, drv * ratio)
    out[0] = 0.0
    hidden = tuple(smpl.JOINT_NAMES[j] for j in range(1, NUM_JOINTS) if not ok[j])
    return ReferenceLengths(lengths=out, measured=ok, ratio=ratio, hidden=hidden)


def rebuild(
    joints_mm: np.ndarray, lengths: np.ndarray, valid: np.ndarray | None = None
) -> np.ndarray:
    """Rebuild every frame with new bone lengths and the motion's own bone directions.

    Args:
        joints_mm: (T, 24, 3) driving motion (mm).
        lengths: (24,) target bone lengths (index = child joint), or (T, 24) per frame.
        valid: (T,) bool frames to rebuild; others are returned unchanged.

    Returns:
        (T, 24, 3) float64: root (pelvis) at the driver's root, each joint at
        parent + length · unit(driver's joint − driver's parent). A zero-length driver bone
        takes that bone's mean direction over the other frames (or +y if there is none).
    """
    j = _check_joints(joints_mm, "rebuild")
    if j.ndim != 3:
        raise InputError(f"rebuild: expected (T, 24, 3) joints, got {j.shape}")
    t = j.shape[0]
    lens = np.asarray(lengths, dtype=np.float64)
    if lens.shape not in ((NUM_JOINTS,), (t, NUM_JOINTS)):
        raise InputError(f"rebuild: lengths must be (24,) or ({t}, 24), got {lens.shape}")
    lens = np.broadcast_to(lens, (t, NUM_JOINTS))
    v = np.ones(t, bool) if valid is None else np.asarray(valid, bool)
    src = j[v]
    ln = lens[v]
    out = np.empty_like(src)
    out[:, 0] = src[:, 0]
    for c in range(1, NUM_JOINTS):
        p = PARENTS[c]
        d = src[:, c] - src[:, p]
        n = np.sqrt(np.einsum("ij,ij->i", d, d))
        bad = n < 1e-9
        if bad.any():
            good_dirs = d[~bad] / n[~bad, None]
            mean = good_dirs.mean(axis=0) if good_dirs.size else np.array([0.0, 1.0, 0.0])
            mn = np.linalg.norm(mean)
            mean = mean / mn if mn > 1e-9 else np.array([0.0, 1.0, 0.0])
            d = np.where(bad[:, None], mean, d)
            n = np.where(bad, 1.0, n)
        out[:, c] = out[:, p] + d * (ln[:, c] / n)[:, None]
    res = j.copy()
    res[v] = out
    return res


def leg_ratio(target_lengths: np.ndarray, driver_lengths: np.ndarray) -> float:
    """(thigh + shin of the target) / (thigh + shin of the driver), both sides summed."""
    t = float(np.sum(np.asarray(target_lengths, np.float64)[list(THIGH_SHIN)]))
    d = float(np.sum(np.asarray(driver_lengths, np.float64)[list(THIGH_SHIN)]))
    return t / d if d > 0 else 1.0
