"""Retarget a driving pose sequence to the character of a reference image.

Modes (:class:`RetargetOptions`):

* ``"none"``: the sequence is returned unchanged (a report is still written).
* ``"camera_fit"``: the reference's ``--use_align`` (reference_spec.md §6, §5.6): a bounded
  camera fit (m, s, p, q) → K_new, face scale, shift of face/body/hands by the projected
  head/wrist displacement and hand scale (m, m·s). Guardrails fall back to the unaligned camera
  (with a warning and a report entry) when the fit looks wrong.
* ``"bone_lengths"``: every driving frame is rebuilt along the SMPL-24 tree with the reference
  character's bone lengths (measured on its 3D pose) and the driver's bone directions; the root
  trajectory keeps planted feet planted (:mod:`.placement`); 2D face/hands/body follow the
  retargeted joints; then ``camera_fit`` is applied on top.

Single person (no identity mapping and at most one track id in the sequence): as the reference,
only person 0 of the driving frames (2D and 3D) is kept and fitted to reference person 0; the
result is rendered with K_new (``PoseSequence.camera``).

Multi-person (``identities`` given, or several track ids): each character whose track id is in
``identities`` is retargeted to its reference person; the others are left as they are. The
render camera is shared, so each character's camera fit is expressed in 3D by the linear map
(X, Y, Z) → (X + p·Z/(m·fx), s·Y + q·Z/(m·fy), Z/m), which projects through K0 exactly as the
original joints project through that character's K_new.

The report goes into ``meta["retarget"]`` of the returned sequence; warnings also go to the
``scail_pose`` logger.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import InputError
from ..skeletons import openpose as op
from ..skeletons import smpl
from ..types import Camera, Pose2D, Pose3D, PoseFrame, PoseSequence
from . import bones, camera_fit, placement
from .camera_fit import CameraFitResult
from .frames import FrameStack
from .frames import Track as _Track
from .placement import PlacementOptions

LOGGER = logging.getLogger("scail_pose")

MODES = ("none", "camera_fit", "bone_lengths")

#: For each of the 24 DWPose body points, the SMPL joint whose displacement it follows in
#: bone-length retargeting (OpenPose-18 map; eyes/ears follow the head; toes the foot joints,
#: heels the ankles).
BODY_FOLLOWS_SMPL: np.ndarray = np.array(
    [15, 12, 17, 19, 21, 16, 18, 20, 2, 5, 8, 1, 4, 7, 15, 15, 15, 15, 10, 10, 7, 11, 11, 8],
    dtype=np.int64,
)

__all__ = [
    "MODES",
    "CameraFitResult",
    "PlacementOptions",
    "RetargetOptions",
    "retarget",
    "bones",
    "camera_fit",
    "placement",
]


@dataclass(frozen=True)
class RetargetOptions:
    """How :func:`retarget` works.

    Fields:
        mode: "none", "camera_fit" (the reference's alignment) or "bone_lengths".
        identities: multi-person only: character track id → index of its person in the
            reference frame. Characters not listed are left as they are. None: single-person
            sequences use person 0 (as the reference); multi-person ones are left as they are.
        guardrails: fall back to the unaligned camera when the fit looks wrong (below).
        max_rms_frac: fall back when the fit's RMS reprojection error exceeds this fraction of
            max(H, W) (0.05 → 44.8 px at 512×896).
        bound_rms_frac: fall back when m or s ends on a bound and the RMS error exceeds this
            fraction of max(H, W) (a pinned, poor fit: the "drifting skeleton" case).
        min_fit_points: fall back when fewer points (neck included) are selected for the fit.
        face_ratio_clamp: clamp of the face scale ratio (reference [0.8, 1.5]).
        plausible_bone_ratio: a reference bone whose length / the driver's lies outside this
            range is treated as not shown (its length comes from the visible bones' ratio).
        placement: root trajectory options for "bone_lengths".
    """

    mode: str = "camera_fit"
    identities: Mapping[int, int] | None = None
    guardrails: bool = True
    max_rms_frac: float = 0.05
    bound_rms_frac: float = 0.02
    min_fit_points: int = 3
    face_ratio_clamp: tuple[float, float] = camera_fit.FACE_RATIO_CLAMP
    plausible_bone_ratio: tuple[float, float] = (0.3, 3.0)
    placement: PlacementOptions = field(default_factory=PlacementOptions)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(
                f"RetargetOptions.mode must be one of {MODES}, got {self.mode!r}; "
                "use 'none' to keep the driving poses as they are"
            )
        lo, hi = self.face_ratio_clamp
        if not 0 < lo <= hi:
            raise InputError(f"RetargetOptions.face_ratio_clamp must be 0 < lo <= hi, got {lo, hi}")


# --------------------------------------------------------------------------------------------
# per-character arrays


def _gather(seq: PoseSequence, pick3d, pick2d) -> _Track:
    """Per-frame, validated gather (reference for :meth:`FrameStack.gather`)."""
    tr = _Track.empty(len(seq))
    for i, fr in enumerate(seq.frames):
        p3, p2 = fr.pose3d, fr.pose2d
        if p3 is not None and p3.num_people:
            k = pick3d(p3)
            if k >= 0:
                tr.slot3d[i] = k
                tr.joints[i] = p3.joints_mm[k]
                tr.valid3d[i] = bool(p3.present[k]) and bool(np.any(p3.joints_mm[k] != 0))
        if p2 is not None and p2.num_people:
            k = pick2d(p2)
            if k >= 0:
                tr.slot2d[i] = k
                tr.body[i] = p2.body_norm[k]
                tr.face[i] = p2.face_norm[k]
                tr.lhand[i] = p2.lhand_norm[k]
                tr.rhand[i] = p2.rhand_norm[k]
                tr.valid2d[i] = True
    return tr


def _slot_of(track_ids: np.ndarray, tid: int) -> int:
    hit = np.flatnonzero(track_ids == tid)
    return int(hit[0]) if hit.size else -1


# --------------------------------------------------------------------------------------------
# the per-character work


def _follow_shift(
    new: np.ndarray, old: np.ndarray, valid: np.ndarray, k0: Camera, size_hw: tuple[int, int]
) -> np.ndarray:
    """(T, 24, 2) normalised displacement of every joint's K0 projection (old → new)."""
    h, w = size_hw
    with np.errstate(divide="ignore", invalid="ignore"):
        d = k0.project(new) - k0.project(np.asarray(old, np.float64))
    ok = (np.asarray(new)[..., 2] > camera_fit.MIN_SHIFT_Z) & (np.asarray(old)[..., 2] > 0.01)
    ok &= valid[:, None]
    d = np.where(ok[..., None] & np.isfinite(d), d, 0.0)
    return d / np.array([w, h], np.float64)


def _bone_step(
    tr: _Track,
    ref3d: np.ndarray | None,
    ref_visible: np.ndarray | None,
    seq: PoseSequence,
    k0: Camera,
    options: RetargetOptions,
    rep: dict,
    warn,
) -> None:
    """Rebuild the character's 3D with the reference bone lengths; 2D follows. In place."""
    v = tr.valid3d
    if ref3d is None or not np.any(ref3d != 0):
        warn("the reference has no 3D pose: bone lengths are left as the driver's")
        rep["bones"] = {"applied": False, "reason": "no reference 3D pose"}
        return
    if v.sum() == 0:
        warn("the character has no 3D pose in any frame: bone lengths not changed")
        rep["bones"] = {"applied": False, "reason": "no driving 3D pose"}
        return
    drv_len = bones.typical_lengths(tr.joints, v)
    ref = bones.reference_lengths(ref3d, drv_len, ref_visible, options.plausible_bone_ratio)
    if ref.hidden:
        warn(
            f"the reference does not show {len(ref.hidden)} bone(s) ({', '.join(ref.hidden)}): "
            f"their lengths are the driver's × {ref.ratio:.3f} (ratio of the visible bones)"
        )
    rebuilt = bones.rebuild(tr.joints, ref.lengths, v)
    ratio = bones.leg_ratio(ref.lengths, drv_len)
    placed = placement.place(tr.joints, rebuilt, ratio, v, seq.fps, k0, options.placement)
    new = placed.joints_mm
    d = _follow_shift(new, tr.joints, v, k0, seq.size_hw)
    f_idx = BODY_FOLLOWS_SMPL
    both = v & tr.valid2d
    tr.body[both] = tr.body[both] + d[both][:, f_idx]
    tr.face[both] = camera_fit.shift_points(tr.face[both], d[both][:, None, smpl.HEAD])
    tr.lhand[both] = camera_fit.shift_points(tr.lhand[both], d[both][:, None, smpl.L_WRIST])
    tr.rhand[both] = camera_fit.shift_points(tr.rhand[both], d[both][:, None, smpl.R_WRIST])
    tr.joints = new.astype(np.float32)
    rep["bones"] = {
        "applied": True,
        "target_lengths_mm": ref.lengths.round(3).tolist(),
        "driver_lengths_mm": drv_len.round(3).tolist(),
        "measured": ref.measured.tolist(),
        "hidden_bones": list(ref.hidden),
        "visible_ratio": ref.ratio,
        "placement": placed.report,
    }


def _fit_step(
    tr: _Track,
    ref2d: Pose2D | None,
    ref_index: int,
    seq: PoseSequence,
    k0: Camera,
    options: RetargetOptions,
    rep: dict,
    warn,
) -> CameraFitResult | None:
    """Solve the camera and check the guardrails; None = fall back to the unaligned camera."""
    h, w = seq.size_hw
    if ref2d is None or ref2d.num_people <= ref_index:
        warn("nobody was detected in the reference image: camera fit skipped (unaligned camera)")
        rep["camera_fit"] = {"applied": False, "reason": "no person in the reference"}
        return None
    frames = np.flatnonzero(tr.valid3d)
    if frames.size == 0:
        warn("the character has no 3D pose in any frame: camera fit skipped")
        rep["camera_fit"] = {"applied": False, "reason": "no driving 3D pose"}
        return None
    fit_frame = int(frames[0])
    if fit_frame != 0:
        warn(f"frame 0 has no 3D pose for the character; the fit uses frame {fit_frame}")
    subset = ref2d.body_subset[ref_index]
    res = camera_fit.fit_camera(
        ref2d.body_norm[ref_index], subset, tr.joints[fit_frame], (h, w), k0
    )
    entry = res.as_report()
    entry["fit_frame"] = fit_frame
    rep["camera_fit"] = entry
    if res.bounds_hit:
        warn(f"camera fit ended on the bound(s) {', '.join(res.bounds_hit)}")
    if subset[camera_fit.NECK_OP] == -1:
        warn("the reference neck is not visible but is used by the fit (as the reference does)")
    reasons = []
    scale = float(max(h, w))
    if len(res.indices) < options.min_fit_points:
        reasons.append(
            f"only {len(res.indices)} fit point(s) (need {options.min_fit_points}): "
            "the reference shows too little of the body"
        )
    if res.rms_px > options.max_rms_frac * scale:
        reasons.append(
            f"reprojection RMS {res.rms_px:.1f} px > {options.max_rms_frac * scale:.1f} px"
        )
    if {"m", "s"} & set(res.bounds_hit) and res.rms_px > options.bound_rms_frac * scale:
        reasons.append(
            f"m/s pinned at a bound with RMS {res.rms_px:.1f} px > "
            f"{options.bound_rms_frac * scale:.1f} px (the fit would drift)"
        )
    entry["guardrail_reasons"] = reasons
    if reasons:
        if options.guardrails:
            warn("camera fit rejected, using the unaligned camera: " + "; ".join(reasons))
            entry["applied"] = False
            return None
        warn("camera fit looks wrong but guardrails are off: " + "; ".join(reasons))
    entry["applied"] = True
    return res


def _apply_fit(
    tr: _Track,
    res: CameraFitResult,
    ref2d: Pose2D,
    ref_index: int,
    seq: PoseSequence,
    k0: Camera,
    options: RetargetOptions,
    rep: dict,
    warn,
) -> None:
    """Face scale, then shift face/body/hands by Δ and scale hands about the wrist. In place."""
    fit_frame = rep["camera_fit"]["fit_frame"]
    f_drv = tr.face[fit_frame] if tr.valid2d[fit_frame] else None
    f_ref = ref2d.face_norm[ref_index]
    inv = lambda f: np.all(f == op.INVISIBLE, axis=-1)  # noqa: E731
    if f_drv is None or inv(f_drv).all() or inv(f_ref).all():
        warn("no visible face in the reference or the fit frame: face ratio set to 1")
        ratio = 1.0
    else:
        ratio = camera_fit.face_scale_ratio(f_drv, f_ref, options.face_ratio_clamp)
    rep["camera_fit"]["face_ratio"] = ratio
    rep["camera_fit"]["hand_scale_xy"] = [res.m, res.m * res.s]
    shifts = camera_fit.projected_shift(
        tr.joints[:, list(camera_fit.SHIFT_JOINTS)], k0, res.camera
    )  # (T, 3, 2)
    shifts[~tr.valid3d] = 0.0
    v = tr.valid2d
    face, body = camera_fit.face_scale_person(tr.face[v], tr.body[v], ratio)
    tr.face[v], tr.body[v], tr.lhand[v], tr.rhand[v] = camera_fit.align_person_2d(
        face, body, tr.lhand[v], tr.rhand[v], shifts[v], seq.size_hw, (res.m, res.m * res.s)
    )


def _camera_as_3d_map(joints: np.ndarray, res: CameraFitResult, k0: Camera) -> np.ndarray:
    """3D joints that project through K0 as ``joints`` project through K_new (linear map)."""
    j = np.asarray(joints, np.float64)
    x, y, z = j[..., 0], j[..., 1], j[..., 2]
    out = np.stack(
        [
            x + res.p * z / (res.m * k0.fx),
            res.s * y + res.q * z / (res.m * k0.fy),
            z / res.m,
        ],
        axis=-1,
    )
    return out.astype(np.float32)


def _retarget_track(
    tr: _Track,
    ref2d: Pose2D | None,
    ref3d: Pose3D | None,
    ref_index: int,
    seq: PoseSequence,
    options: RetargetOptions,
    label: str,
) -> tuple[CameraFitResult | None, dict]:
    rep: dict = {"character": label, "warnings": []}

    def warn(msg: str) -> None:
        rep["warnings"].append(msg)
        LOGGER.warning("retarget (%s): %s", label, msg)

    k0 = seq.base_camera
    if options.mode == "bone_lengths":
        r3 = None
        if ref3d is not None and ref3d.num_people > ref_index and ref3d.present[ref_index]:
            r3 = np.asarray(ref3d.joints_mm[ref_index], np.float64)
        vis = None
        if ref2d is not None and ref2d.num_people > ref_index:
            vis = ref2d.body_scores[ref_index] > op.SCORE_THRESHOLD
        _bone_step(tr, r3, vis, seq, k0, options, rep, warn)
    res = _fit_step(tr, ref2d, ref_index, seq, k0, options, rep, warn)
    if res is not None and ref2d is not None:
        _apply_fit(tr, res, ref2d, ref_index, seq, k0, options, rep, warn)
    return res, rep


# --------------------------------------------------------------------------------------------
# writing results back


def _frame_with(fr: PoseFrame, tr: _Track, i: int, only: bool, joints: np.ndarray | None):
    """A new frame with the character's results at its slots (``only``: keep just that person)."""
    p3, p2, det = fr.pose3d, fr.pose2d, fr.detections
    k3, k2 = int(tr.slot3d[i]), int(tr.slot2d[i])
    if p3 is not None and k3 >= 0:
        sl = slice(k3, k3 + 1) if only else slice(None)
        jm = p3.joints_mm[sl]
        if joints is not None and tr.valid3d[i]:
            jm = np.array(jm)
            jm[0 if only else k3] = joints[i]
        if only or jm is not p3.joints_mm:
            p3 = Pose3D(jm, p3.present[sl], p3.track_ids[sl])
    if p2 is not None and k2 >= 0:
        if only:
            sl = slice(k2, k2 + 1)
            body, face = tr.body[i][None], tr.face[i][None]
            lh, rh = tr.lhand[i][None], tr.rhand[i][None]
        else:
            sl = slice(None)
            body, face = np.array(p2.body_norm), np.array(p2.face_norm)
            lh, rh = np.array(p2.lhand_norm), np.array(p2.rhand_norm)
            body[k2], face[k2], lh[k2], rh[k2] = tr.body[i], tr.face[i], tr.lhand[i], tr.rhand[i]
        p2 = Pose2D(
            body, p2.body_scores[sl], face, p2.face_scores[sl], lh, p2.lhand_scores[sl], rh,
            p2.rhand_scores[sl], p2.track_ids[sl],
        )  # fmt: skip
    if only and det is not None and len(det) > 1:
        det = type(det)(det.boxes_xyxy[:1], det.scores[:1])
    return PoseFrame(detections=det, pose2d=p2, pose3d=p3)


def _track_ids(seq: PoseSequence) -> set[int]:
    ids: set[int] = set()
    for fr in seq.frames:
        for p in (fr.pose3d, fr.pose2d):
            if p is not None:
                ids.update(int(t) for t in p.track_ids if t >= 0)
    return ids


def retarget(
    seq: PoseSequence, reference: PoseFrame, options: RetargetOptions = RetargetOptions()
) -> PoseSequence:
    """Retarget ``seq`` to the character of ``reference``.

    Args:
        seq: the driving sequence (2D normalised, 3D SMPL-24 mm for K0 of ``seq.size_hw``).
        reference: the reference image's PoseFrame, measured at ``seq.size_hw``: ``pose2d``
            (needed for the camera fit) and ``pose3d`` (needed for ``bone_lengths``).
        options: :class:`RetargetOptions`.

    Returns:
        A new sequence. Single person: person 0 only, ``camera`` = K_new when the fit was
        applied (K0 otherwise). ``meta["retarget"]`` holds the report: ``mode``, ``warnings``
        and per character ``camera_fit`` (mode, indices, m, s, p, q, rms, bounds hit, face
        ratio, applied/fallback reasons) and ``bones`` (lengths, hidden bones, placement).
    """
    if not isinstance(seq, PoseSequence):
        raise InputError(f"retarget: seq must be a PoseSequence, got {type(seq).__name__}")
    if not isinstance(reference, PoseFrame):
        raise InputError(
            f"retarget: reference must be the reference image's PoseFrame, got "
            f"{type(reference).__name__}"
        )
    return _retarget(seq, reference, options, fast=True)


def _retarget(
    seq: PoseSequence, reference: PoseFrame, options: RetargetOptions, fast: bool
) -> PoseSequence:
    """:func:`retarget`; ``fast`` = vectorised frame I/O (:class:`FrameStack`, trusted
    constructors), else the per-frame validated path (``_gather`` / ``_frame_with``). Both give
    identical results; the second is kept as the reference for tests."""
    report: dict = {"mode": options.mode, "characters": [], "warnings": []}
    if options.mode == "none":
        return replace(seq, meta={**seq.meta, "retarget": report})
    stack = FrameStack(seq) if fast else None
    ids = stack.track_ids() if stack is not None else _track_ids(seq)
    multi = options.identities is not None or len(ids) > 1
    if not multi:
        tr = stack.gather(None) if stack is not None else _gather(seq, lambda p: 0, lambda p: 0)
        res, rep = _retarget_track(tr, reference.pose2d, reference.pose3d, 0, seq, options, "0")
        report["characters"].append(rep)
        report["warnings"].extend(rep["warnings"])
        bones_applied = rep.get("bones", {}).get("applied", False)
        if res is None and not bones_applied:
            report["applied"] = False
            return replace(seq, meta={**seq.meta, "retarget": report})
        joints = tr.joints if bones_applied else None
        if stack is not None:
            frames = stack.frames_single(tr, joints)
        else:
            frames = [_frame_with(fr, tr, i, True, joints) for i, fr in enumerate(seq.frames)]
        cam = res.camera if res is not None else seq.base_camera
        report["applied"] = True
        return PoseSequence(
            tuple(frames), seq.size_hw, seq.fps, cam, {**seq.meta, "retarget": report}
        )
    # multi-person
    mapping = dict(options.identities or {})
    if not mapping:
        msg = "multi-person input without an identity mapping: every character left as is"
        report["warnings"].append(msg)
        LOGGER.warning("retarget: %s", msg)
    frames = list(seq.frames)
    k0 = seq.base_camera
    for tid, ref_idx in sorted(mapping.items()):
        if stack is not None:
            tr = stack.gather(int(tid))
        else:
            tr = _gather(
                seq,
                lambda p, t=tid: _slot_of(p.track_ids, t),
                lambda p, t=tid: _slot_of(p.track_ids, t),
            )
        res, rep = _retarget_track(
            tr, reference.pose2d, reference.pose3d, int(ref_idx), seq, options, str(tid)
        )
        report["characters"].append(rep)
        report["warnings"].extend(rep["warnings"])
        bones_applied = rep.get("bones", {}).get("applied", False)
        if res is None and not bones_applied:
            continue
        joints = tr.joints
        if res is not None:
            joints = _camera_as_3d_map(joints, res, k0)
            rep["camera_fit"]["expressed_as"] = "3d_linear_map"
        if stack is not None:
            stack.put(tr, int(tid), joints)
        else:
            frames = [_frame_with(fr, tr, i, False, joints) for i, fr in enumerate(frames)]
    if stack is not None:
        frames = stack.frames_multi()
    report["applied"] = any(
        c.get("camera_fit", {}).get("applied") or c.get("bones", {}).get("applied")
        for c in report["characters"]
    )
    return PoseSequence(
        tuple(frames), seq.size_hw, seq.fps, seq.camera, {**seq.meta, "retarget": report}
    )
