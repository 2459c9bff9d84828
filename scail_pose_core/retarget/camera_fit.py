"""The reference's ``--use_align`` camera fit (reference_spec.md §6, §5.6, §6.4), reproduced exactly.

Steps (single person, the reference's person 0):

1. :func:`select_points` — which OpenPose-18 points drive the fit ("down" when all four knees/
   ankles are valid, else "central"; the neck, index 1, is always included).
2. :func:`solve_camera` — the bounded L-BFGS-B solve of (m, s, p, q) with scipy's default
   tolerances and numeric gradient: u = f·m·X/Z + W/2 + p, v = f·m·s·Y/Z + H/2 + q, giving
   K_new = [[f·m, 0, W/2 + p], [0, f·m·s, H/2 + q], [0, 0, 1]].
3. :func:`face_scale_ratio` — mean distance of the 67 face points to point 30 (nose tip),
   reference over driving frame 0, clamped to [0.8, 1.5] (−1 points included, as the reference).
4. :func:`projected_shift` — Δ(j) = project(J_j, K_new) − project(J_j, K0) in float32 pixels
   (0 where Z ≤ 0.01), applied to face + body (head, SMPL 15) and hands (wrists, SMPL 20/21);
   :func:`align_person_2d` then scales each hand about its wrist by (m, m·s).

Pixels are image pixels of the (H, W) frame; 2D poses are normalised (x/W, y/H); 3D joints are
camera-space mm (SMPL-24; OpenPose-18 via :func:`~scail_pose_core.skeletons.smpl.smpl24_to_openpose18`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..skeletons import openpose as op
from ..skeletons import smpl
from ..types import Camera

#: OpenPose-18 points of the "central" (upper body) and "down" (legs) sets (§6.2).
UPPER: tuple[int, ...] = (0, 2, 3, 5, 6)
LOWER: tuple[int, ...] = (9, 10, 12, 13)
NECK_OP = 1

#: Solver bounds for m and s (§6.3); p and q are bounded by ±W and ±H.
M_BOUNDS = (0.7, 1.4)
S_BOUNDS = (0.8, 1.15)
#: Face-ratio clamp (§6.4).
FACE_RATIO_CLAMP = (0.8, 1.5)
#: Face point the face is scaled about (nose tip).
FACE_CENTER = 30
#: Below this depth (mm) a joint gets no shift (§5.6).
MIN_SHIFT_Z = 0.01
#: SMPL joints whose projected displacement moves face/body, left hand, right hand.
SHIFT_JOINTS = (smpl.HEAD, smpl.L_WRIST, smpl.R_WRIST)


@dataclass(frozen=True)
class CameraFitResult:
    """Outcome of :func:`solve_camera`.

    Fields:
        mode: "down" or "central".
        indices: OpenPose-18 indices used, neck first.
        m, s, p, q: the solved focal scale, aspect, principal-point offsets (pixels).
        objective: weighted squared pixel error at the solution.
        nit: L-BFGS-B iterations.
        rms_px: unweighted RMS reprojection error over the selected points (pixels).
        max_err_px: largest single-point reprojection error (pixels).
        bounds_hit: names among "m", "s", "p", "q" whose value lies on a bound.
        camera: K_new as a :class:`Camera`.
    """

    mode: str
    indices: tuple[int, ...]
    m: float
    s: float
    p: float
    q: float
    objective: float
    nit: int
    rms_px: float
    max_err_px: float
    bounds_hit: tuple[str, ...]
    camera: Camera
    residuals_px: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 2)))

    def as_report(self) -> dict:
        """JSON-serialisable summary."""
        return {
            "mode": self.mode,
            "selected_indices": list(self.indices),
            "m": self.m,
            "s": self.s,
            "p": self.p,
            "q": self.q,
            "objective": self.objective,
            "nit": self.nit,
            "rms_px": self.rms_px,
            "max_err_px": self.max_err_px,
            "bounds_hit": list(self.bounds_hit),
            "K_new": self.camera.K.tolist(),
        }


def select_points(ref_subset: np.ndarray, drv_op18: np.ndarray) -> tuple[str, tuple[int, ...]]:
    """Choose the fit mode and points (§6.2).

    Args:
        ref_subset: (≥14,) the reference person's subset row (index or −1).
        drv_op18: (18, 3) the driving frame's OpenPose-18 3D joints (mm).

    Returns:
        ("down", (1, *valid lower)) when all four lower points are valid, else
        ("central", (1, *valid upper)). A point is valid when ``ref_subset[i] != -1`` and its 3D
        coordinates do not sum to 0. The neck is included without a check, as the reference.
    """
    subset = np.asarray(ref_subset, dtype=np.float64)
    p3 = np.asarray(drv_op18)

    def valid(i: int) -> bool:
        return bool(subset[i] != -1 and float(np.sum(p3[i])) != 0.0)

    lower = [i for i in LOWER if valid(i)]
    if len(lower) == len(LOWER):
        return "down", (NECK_OP, *lower)
    return "central", (NECK_OP, *[i for i in UPPER if valid(i)])


def solve_camera(
    ref_px: np.ndarray,
    drv_points_mm: np.ndarray,
    mode: str,
    size_hw: tuple[int, int],
    focal: float,
    indices: tuple[int, ...] = (),
) -> CameraFitResult:
    """Bounded L-BFGS-B fit of (m, s, p, q) (§6.3), exactly as the reference calls scipy.

    Args:
        ref_px: (k, 2) reference 2D points in pixels, neck first.
        drv_points_mm: (k, 3) the matching driving 3D points (mm), neck first.
        mode: "central" (E = 8·e_neck + Σ e_k) or "down" (E = e_neck + 4·Σ e_k).
        size_hw: (H, W).
        focal: K0 focal length f (pixels).
        indices: the OpenPose indices (for the report only).
    """
    from scipy.optimize import minimize

    h, w = size_hw
    p2 = np.asarray(ref_px, dtype=np.float64)
    p3 = np.asarray(drv_points_mm)
    if mode == "central":
        w_neck, w_rest = 8.0, 1.0
    elif mode == "down":
        w_neck, w_rest = 1.0, 4.0
    else:
        from ..errors import InputError

        raise InputError(f"solve_camera: mode must be 'central' or 'down', got {mode!r}")

    def residuals(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m, s, p, q = x
        u = focal * m * p3[:, 0] / p3[:, 2] + w / 2 + p
        v = focal * m * s * p3[:, 1] / p3[:, 2] + h / 2 + q
        return u - p2[:, 0], v - p2[:, 1]

    def objective(x: np.ndarray) -> float:
        du, dv = residuals(x)
        e = du**2 + dv**2
        return float(w_neck * e[0] + w_rest * np.sum(e[1:]))

    bounds = [M_BOUNDS, S_BOUNDS, (-w, w), (-h, h)]
    res = minimize(objective, np.array([1.0, 1.0, 0.0, 0.0]), bounds=bounds)
    m, s, p, q = (float(v) for v in res.x)
    du, dv = residuals(res.x)
    err = np.sqrt(du**2 + dv**2)
    names = ("m", "s", "p", "q")
    hit = tuple(
        n
        for n, v, (lo, hi) in zip(names, (m, s, p, q), bounds, strict=True)
        if abs(v - lo) <= 1e-6 * max(1.0, abs(lo)) or abs(v - hi) <= 1e-6 * max(1.0, abs(hi))
    )
    cam = Camera(fx=focal * m, fy=focal * m * s, cx=w / 2 + p, cy=h / 2 + q, size_hw=(h, w))
    return CameraFitResult(
        mode=mode,
        indices=tuple(int(i) for i in indices),
        m=m,
        s=s,
        p=p,
        q=q,
        objective=float(res.fun),
        nit=int(res.nit),
        rms_px=float(np.sqrt(np.mean(err**2))) if err.size else 0.0,
        max_err_px=float(err.max()) if err.size else 0.0,
        bounds_hit=hit,
        camera=cam,
        residuals_px=np.stack([du, dv], axis=-1),
    )


def fit_camera(
    ref_body_norm: np.ndarray,
    ref_subset: np.ndarray,
    drv_joints_mm: np.ndarray,
    size_hw: tuple[int, int],
    base_camera: Camera | None = None,
) -> CameraFitResult:
    """Select points and solve: reference person (normalised body, subset) vs driving 3D.

    Args:
        ref_body_norm: (24, 2) the reference person's normalised body points.
        ref_subset: (24,) its subset row (index or −1).
        drv_joints_mm: (24, 3) SMPL-24 joints of the driving frame used for the fit (float32
            like NLF's output).
        size_hw: (H, W) of both.
        base_camera: K0 (default: the FOV-55 camera of ``size_hw``).
    """
    h, w = size_hw
    k0 = base_camera if base_camera is not None else Camera.from_fov(size_hw)
    ref_px = np.asarray(ref_body_norm, dtype=np.float64)[:14] * np.array([w, h], np.float64)
    op18 = smpl.smpl24_to_openpose18(np.asarray(drv_joints_mm))
    mode, idx = select_points(np.asarray(ref_subset)[:14], op18)
    sel = list(idx)
    return solve_camera(ref_px[sel], op18[sel], mode, size_hw, k0.fx, idx)


def face_scale_ratio(
    face_drv: np.ndarray, face_ref: np.ndarray, clamp: tuple[float, float] = FACE_RATIO_CLAMP
) -> float:
    """Face size ratio reference / driving (§6.4), clamped.

    Args:
        face_drv, face_ref: (68, 2) normalised faces (−1 points are included, as the reference).

    Returns:
        mean(|ref_i − ref_30|) / mean(|drv_i − drv_30|) over i ≠ 30, clamped to ``clamp``;
        1.0 when the driving mean is below 1e-6.
    """
    fd = np.asarray(face_drv, dtype=np.float64)
    fr = np.asarray(face_ref, dtype=np.float64)
    keep = np.arange(op.NUM_FACE) != FACE_CENTER
    d0 = float(np.mean(np.linalg.norm(fd[keep] - fd[FACE_CENTER], axis=-1)))
    dr = float(np.mean(np.linalg.norm(fr[keep] - fr[FACE_CENTER], axis=-1)))
    ratio = 1.0 if d0 < 1e-6 else dr / d0
    return float(min(max(ratio, clamp[0]), clamp[1]))


def _project_f32(joints: np.ndarray, cam: Camera) -> np.ndarray:
    """Float32 projection in the reference's operation order: (fx·X)/Z + cx."""
    j = np.asarray(joints, dtype=np.float32)
    f32 = np.float32
    u = (j[..., 0] * f32(cam.fx)) / j[..., 2] + f32(cam.cx)
    v = (j[..., 1] * f32(cam.fy)) / j[..., 2] + f32(cam.cy)
    return np.stack([u, v], axis=-1).astype(np.float32)


def projected_shift(joints_mm: np.ndarray, k0: Camera, k_new: Camera) -> np.ndarray:
    """Δ = project(J, K_new) − project(J, K0) in float32 pixels (§5.6).

    Args:
        joints_mm: (..., 3) camera-space joints (cast to float32 like the reference's tensors).

    Returns:
        (..., 2) float32 pixel shifts; (0, 0) where Z ≤ 0.01.
    """
    j = np.asarray(joints_mm, dtype=np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = _project_f32(j, k_new) - _project_f32(j, k0)
    ok = j[..., 2] > MIN_SHIFT_Z
    return np.where(ok[..., None], d, np.float32(0)).astype(np.float32)


def _scale_xy(pts: np.ndarray, c: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """(pts − c)·(sx, sy) + c for float64 (..., 2) arrays, one coordinate at a time: the same
    float operations as broadcasting over the length-2 axis, without numpy's per-pair inner
    loops (several times faster for (T, N, 2) arrays)."""
    out = np.empty(np.broadcast_shapes(pts.shape, c.shape))
    for k, sk in ((0, sx), (1, sy)):
        ck, ok = c[..., k], out[..., k]
        np.subtract(pts[..., k], ck, out=ok)
        np.multiply(ok, np.float64(sk), out=ok)
        np.add(ok, ck, out=ok)
    return out


def _add_xy(pts: np.ndarray, d: np.ndarray) -> np.ndarray:
    """pts + d for float64 (..., 2) arrays, one coordinate at a time (see :func:`_scale_xy`)."""
    out = np.empty(np.broadcast_shapes(pts.shape, d.shape))
    for k in (0, 1):
        np.add(pts[..., k], d[..., k], out=out[..., k])
    return out


def _invisible(points: np.ndarray) -> np.ndarray:
    """(..., N) bool: both coordinates of a (..., N, 2) point equal −1."""
    if points.shape[-1] == 2:  # two comparisons beat a reduction over a length-2 axis
        return (points[..., 0] == op.INVISIBLE) & (points[..., 1] == op.INVISIBLE)
    return np.all(points == op.INVISIBLE, axis=-1)


def _keep_invisible(out: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``out`` with the points that are invisible in ``points`` set back to −1."""
    inv = _invisible(points)
    if out.shape[:-1] != inv.shape or not out.flags.writeable:
        return np.where(inv[..., None], op.INVISIBLE, out)
    out[inv] = op.INVISIBLE
    return out


def _anchor(points: np.ndarray, index: int) -> np.ndarray:
    """points[..., index, :], or the mean of the visible points where that one is invisible.

    Args:
        points: (..., N, 2). Returns (..., 1, 2).
    """
    pts = np.asarray(points, dtype=np.float64)
    inv = _invisible(pts)
    out = pts[..., index : index + 1, :].copy()
    need = inv[..., index]
    if not np.any(need):
        return out
    # the mean is only needed (and only computed) where the anchor point is invisible
    sub, sub_inv = pts[need], inv[need]
    vis = ~sub_inv
    n = vis.sum(axis=-1, keepdims=True)
    mean = np.where(vis[..., None], sub, 0.0).sum(axis=-2) / np.maximum(n, 1)
    use_mean = n[..., 0] > 0
    out[need] = np.where(use_mean[..., None], mean, sub[..., index, :])[..., None, :]
    return out


def scale_about(points: np.ndarray, center: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """(points − center)·(sx, sy) + center; invisible (−1, −1) points are kept at −1."""
    pts = np.asarray(points, dtype=np.float64)
    c = np.asarray(center, dtype=np.float64)
    return _keep_invisible(_scale_xy(pts, c, sx, sy), pts)


def _row(a: np.ndarray, i: int) -> np.ndarray:
    """a[..., i:i+1, :] (keeps the point axis for broadcasting)."""
    return a[..., i : i + 1, :]


def shift_points(points: np.ndarray, delta_norm: np.ndarray) -> np.ndarray:
    """points + delta (normalised); invisible (−1, −1) points are kept at −1."""
    pts = np.asarray(points, dtype=np.float64)
    return _keep_invisible(_add_xy(pts, np.asarray(delta_norm, dtype=np.float64)), pts)


def face_scale_person(
    face: np.ndarray, body: np.ndarray, ratio: float
) -> tuple[np.ndarray, np.ndarray]:
    """Scale faces about face point 30 and bodies about body point 0 (§6.4).

    Args:
        face: (..., 68, 2), body: (..., 24, 2) normalised (leading axes: frames/persons).

    Returns:
        (face, body) scaled. Invisible face points stay −1 (the reference moves them, but they
        stay negative and are never drawn). Deliberate deviation: when face point 30 itself is
        invisible the reference scales about (−1, −1), flinging the visible points across the
        image; we scale about the mean of the visible points instead.
    """
    f = np.asarray(face, dtype=np.float64)
    b = np.asarray(body, dtype=np.float64)
    face_out = scale_about(f, _anchor(f, FACE_CENTER), ratio, ratio)
    body_out = _scale_xy(b, _row(b, 0), ratio, ratio)
    return face_out, body_out


def align_person_2d(
    face: np.ndarray,
    body: np.ndarray,
    lhand: np.ndarray,
    rhand: np.ndarray,
    shifts_px: np.ndarray,
    size_hw: tuple[int, int],
    hand_scale_xy: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shift face/body by Δ(head), hands by Δ(wrists), then scale hands about the wrist (§5.6).

    Args:
        face (..., 68, 2), body (..., 24, 2), lhand (..., 21, 2), rhand (..., 21, 2): normalised
            points (leading axes: frames/persons).
        shifts_px: (..., 3, 2) pixel shifts for SMPL 15 (head), 20 (L wrist), 21 (R wrist).
        size_hw: (H, W) to normalise the shifts.
        hand_scale_xy: (scale_x, scale_y), the reference uses (m, m·s).

    Returns:
        (face, body, lhand, rhand) as float64; invisible points stay (−1, −1). Deliberate
        deviation: a hand whose wrist is invisible is scaled about the mean of its visible
        points (the reference would scale about the shifted (−1, −1)).
    """
    h, w = size_hw
    d = np.asarray(shifts_px, dtype=np.float64) / np.array([w, h], np.float64)
    face_o = shift_points(face, _row(d, 0))
    body_o = _add_xy(np.asarray(body, dtype=np.float64), _row(d, 0))
    lh = shift_points(lhand, _row(d, 1))
    rh = shift_points(rhand, _row(d, 2))
    sx, sy = hand_scale_xy
    lh = scale_about(lh, _anchor(lh, 0), sx, sy)
    rh = scale_about(rh, _anchor(rh, 0), sx, sy)
    return face_o, body_o, lh, rh
