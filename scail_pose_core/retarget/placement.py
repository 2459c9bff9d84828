"""Root trajectory of a rebuilt (retargeted) motion: planted feet stay planted, body stays in frame.

Input: the driver's motion and the same motion rebuilt with new bone lengths (root still at the
driver's root), both (T, 24, 3) camera-space mm. Steps:

1. Up axis: the mean pelvis→neck direction of the driver (an upright body's axis), or camera −y.
2. Foot contacts of the driver (ankle and foot joints): near the driver's own lowest level for
   that joint and slow.
3. Horizontal root displacement (relative to the first valid frame) scaled by the leg-length
   ratio: a character with uniformly scaled legs then keeps a planted foot exactly in place.
4. Vertical offset per frame so that the foot joints in contact are at the driver's height (the
   character walks on the driver's floor; no floating, no sinking): per side the toe (foot)
   joint when it touches, else the ankle; the mean over both sides in double support. Frames
   without contact interpolate the offset linearly between the nearest contact frames.
5. If the character leaves the frame where the driver did not, the whole motion is pushed back
   in depth (one constant offset along +z) until it fits again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..skeletons import smpl
from ..types import Camera

#: Joints tested for ground contact: left ankle, right ankle, left foot, right foot.
CONTACT_JOINTS: tuple[int, ...] = (smpl.L_ANKLE, smpl.R_ANKLE, smpl.L_FOOT, smpl.R_FOOT)


@dataclass(frozen=True)
class PlacementOptions:
    """Thresholds of :func:`place`.

    Fields:
        contact_height_mm: a foot joint within this height of its lowest level is on the ground.
        contact_speed_mm_s: ... and moving slower than this (mm per second).
        ground_percentile: the joint's "lowest level" is this percentile of its heights.
        up: "auto" (driver's mean pelvis→neck axis) or "camera" (camera −y).
        keep_in_frame: push the motion back in depth when it leaves the frame more than the
            driver did.
        frame_margin_frac: tolerance of the in-frame test, as a fraction of max(H, W): the
            character may reach this far beyond both the frame and the driver's own reach.
    """

    contact_height_mm: float = 40.0
    contact_speed_mm_s: float = 250.0
    ground_percentile: float = 5.0
    up: str = "auto"
    keep_in_frame: bool = True
    frame_margin_frac: float = 0.02


@dataclass(frozen=True)
class PlacementResult:
    """Placed joints (T, 24, 3) float64 plus what was done (JSON-friendly ``report``)."""

    joints_mm: np.ndarray
    up: np.ndarray
    contacts: np.ndarray
    report: dict = field(default_factory=dict)


def estimate_up(joints_mm: np.ndarray, valid: np.ndarray, mode: str = "auto") -> np.ndarray:
    """Unit up vector (3,) in camera coordinates (camera y points down)."""
    cam_up = np.array([0.0, -1.0, 0.0])
    if mode == "camera":
        return cam_up
    j = np.asarray(joints_mm, np.float64)[np.asarray(valid, bool)]
    if j.shape[0] == 0:
        return cam_up
    axis = j[:, smpl.NECK] - j[:, 0]
    n = np.linalg.norm(axis, axis=-1)
    axis = axis[n > 1e-6] / n[n > 1e-6, None]
    if axis.shape[0] == 0:
        return cam_up
    up = axis.mean(axis=0)
    nu = np.linalg.norm(up)
    if nu < 0.5 or float(up @ cam_up) < 0.5:  # no dominant axis, or upside down: trust camera
        return cam_up
    return up / nu


def detect_contacts(
    joints_mm: np.ndarray,
    valid: np.ndarray,
    up: np.ndarray,
    fps: float,
    options: PlacementOptions = PlacementOptions(),
) -> np.ndarray:
    """(T, 4) bool: which of :data:`CONTACT_JOINTS` touch the ground in each frame."""
    j = np.asarray(joints_mm, np.float64)
    v = np.asarray(valid, bool)
    t = j.shape[0]
    out = np.zeros((t, len(CONTACT_JOINTS)), bool)
    if v.sum() == 0:
        return out
    feet = j[:, list(CONTACT_JOINTS)]  # (T, 4, 3)
    h = feet @ up  # (T, 4)
    ground = np.percentile(h[v], options.ground_percentile, axis=0)
    speed = np.full((t, len(CONTACT_JOINTS)), np.inf)
    idx = np.flatnonzero(v)
    if idx.size >= 2:
        dt = np.diff(idx) / float(fps)
        step = np.linalg.norm(np.diff(feet[idx], axis=0), axis=-1) / dt[:, None]
        sp = np.full((idx.size, len(CONTACT_JOINTS)), np.inf)
        sp[0] = step[0]
        sp[-1] = step[-1]
        if idx.size > 2:
            sp[1:-1] = np.minimum(step[:-1], step[1:])
        speed[idx] = sp
    else:
        speed[idx] = 0.0
    out = (h - ground < options.contact_height_mm) & (speed < options.contact_speed_mm_s)
    out &= v[:, None]
    return out


def _interp_offsets(c: np.ndarray, have: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Fill frames without a contact offset by linear interpolation (held at the ends)."""
    t = np.arange(c.shape[0])
    if have.sum() == 0:
        return np.zeros_like(c)
    return np.interp(t, t[have], c[have])


def _outside_px(points_px: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Per frame, how far (pixels) the points reach outside ``box`` (T, 4) xyxy."""
    x, y = points_px[..., 0], points_px[..., 1]
    over = np.stack(
        [
            box[:, None, 0] - x,
            x - box[:, None, 2],
            box[:, None, 1] - y,
            y - box[:, None, 3],
        ],
        axis=-1,
    )
    return np.nanmax(np.maximum(over, 0.0), axis=(1, 2))


def place(
    driver_mm: np.ndarray,
    rebuilt_mm: np.ndarray,
    leg_ratio: float,
    valid: np.ndarray,
    fps: float,
    camera: Camera,
    options: PlacementOptions = PlacementOptions(),
) -> PlacementResult:
    """Move the rebuilt motion's root so feet stay planted and the body stays in frame.

    Args:
        driver_mm: (T, 24, 3) the driving motion.
        rebuilt_mm: (T, 24, 3) the motion rebuilt with the character's bone lengths
            (:func:`~scail_pose_core.retarget.bones.rebuild`), root at the driver's root.
        leg_ratio: the character's leg length / the driver's (scales horizontal root travel).
        valid: (T,) frames where the person is present (others are returned unchanged).
        fps: frames per second (for contact speed).
        camera: K0, for the in-frame test.
    """
    drv = np.asarray(driver_mm, np.float64)
    out = np.array(rebuilt_mm, np.float64, copy=True)
    v = np.asarray(valid, bool)
    report: dict = {"leg_ratio": float(leg_ratio)}
    up = estimate_up(drv, v, options.up)
    report["up"] = up.tolist()
    if v.sum() == 0:
        return PlacementResult(out, up, np.zeros((drv.shape[0], 4), bool), report)
    first = int(np.flatnonzero(v)[0])
    # 1) horizontal root travel scaled by the leg ratio
    d = drv[:, 0] - drv[first, 0]
    d_h = d - np.outer(d @ up, up)
    shift = (leg_ratio - 1.0) * d_h
    shift[~v] = 0.0
    out[v] += shift[v, None, :]
    # 2) vertical: contact feet at the driver's height
    contacts = detect_contacts(drv, v, up, fps, options)
    cj = list(CONTACT_JOINTS)
    h_drv = drv[:, cj] @ up
    h_new = out[:, cj] @ up
    diff = h_drv - h_new
    # a foot joint (toes) in contact is preferred over its ankle: while the heel lifts, the toes
    # are the planted point and the ankle rotates about them
    use = contacts.copy()
    use[:, 0] &= ~contacts[:, 2]
    use[:, 1] &= ~contacts[:, 3]
    n_c = use.sum(axis=1)
    have = n_c > 0
    c = np.zeros(drv.shape[0])
    c[have] = (np.where(use, diff, 0.0).sum(axis=1)[have]) / n_c[have]
    if have.any():
        c = _interp_offsets(c, have, v)
        report["contact_frames"] = int(have.sum())
    else:  # no contact anywhere: keep the lowest foot joint at the driver's lowest level
        low = np.min(h_drv[v], axis=1) - np.min(h_new[v], axis=1)
        c[:] = float(np.mean(low))
        report["contact_frames"] = 0
    out[v] += (c[v, None] * up[None, :])[:, None, :]
    report["vertical_offset_mm"] = {
        "min": float(c[v].min()),
        "max": float(c[v].max()),
    }
    # 3) keep in frame
    report["depth_push_mm"] = 0.0
    if options.keep_in_frame:
        push = _depth_push(drv, out, v, camera, options.frame_margin_frac * max(camera.size_hw))
        if push > 0:
            out[v, :, 2] += push
            report["depth_push_mm"] = float(push)
    return PlacementResult(out, up, contacts, report)


def _depth_push(
    drv: np.ndarray, placed: np.ndarray, v: np.ndarray, camera: Camera, margin: float
) -> float:
    """Smallest constant +z offset (mm) that keeps ``placed`` inside frame ∪ driver's bbox."""
    h, w = camera.size_hw
    dp = camera.project(drv[v])
    lo = np.minimum(np.nanmin(dp, axis=1), 0.0) - margin
    hi = np.maximum(np.nanmax(dp, axis=1), [w, h]) + margin
    box = np.concatenate([lo, hi], axis=1)

    def excess(dz: float) -> float:
        p = placed[v].copy()
        p[..., 2] += dz
        if np.any(p[..., 2] <= 1.0):
            return np.inf
        return float(np.max(_outside_px(camera.project(p), box)))

    if excess(0.0) <= 0.0:
        return 0.0
    z_med = float(np.median(placed[v][..., 2]))
    hi_dz = max(z_med, 1000.0)
    for _ in range(8):
        if excess(hi_dz) <= 0.0:
            break
        hi_dz *= 2.0
    else:
        return 0.0
    lo_dz = 0.0
    for _ in range(40):
        mid = 0.5 * (lo_dz + hi_dz)
        if excess(mid) <= 0.0:
            hi_dz = mid
        else:
            lo_dz = mid
    return hi_dz
