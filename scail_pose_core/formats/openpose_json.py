"""ComfyUI's ``POSE_KEYPOINT``: a list with one OpenPose-JSON dict per frame.

Frame dict (the convention of comfyui_controlnet_aux's DWPose node and core's SDPose)::

    {"people": [person, ...], "canvas_width": W, "canvas_height": H}

Person dict — flat lists of x, y, confidence triples in **pixels** of the analysed image:

* ``pose_keypoints_2d``: 18 OpenPose body points (nose, neck, R sho/elb/wri, L sho/elb/wri,
  R hip/knee/ankle, L hip/knee/ankle, R eye, L eye, R ear, L ear);
* ``foot_keypoints_2d``: 6 foot points (L big toe, L small toe, L heel, R big toe, R small toe,
  R heel), as core's SDPose writes them;
* ``face_keypoints_2d``: 70 points = the 68 iBUG landmarks + R eye + L eye copied from the body
  (points 14 and 15);
* ``hand_left_keypoints_2d``, ``hand_right_keypoints_2d``: 21 points each;
* ``person_id``: ``[track id]`` (−1 when unassigned).

Writing uses real scores. A point that is not visible in our data model (body score ≤ 0.3, face
or hand point at −1) is written as ``0, 0, 0``, the OpenPose "missing" marker. Reading accepts
pixel or normalised coordinates (detected per frame, or forced with ``coords=``), nested
``[[x, y, c], ...]`` lists, and ``None``/empty lists for parts that were not detected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from ..skeletons import openpose as op
from ..types import Pose2D, PoseFrame, PoseSequence

NUM_BODY18 = 18
NUM_FEET = 6
NUM_FACE70 = 70
#: Body points copied into face points 68 and 69 (R eye, L eye), OpenPose's pupil slots.
FACE_EYES_FROM_BODY = (14, 15)


def _triples(points_norm: np.ndarray, visible: np.ndarray, scores: np.ndarray, w: int, h: int):
    out = np.zeros((points_norm.shape[0], 3), np.float64)
    out[:, 0] = points_norm[:, 0] * w
    out[:, 1] = points_norm[:, 1] * h
    out[:, 2] = scores.astype(np.float64)
    out[~visible] = 0.0
    return out.reshape(-1).tolist()


def _person_to_dict(pose: Pose2D, i: int, w: int, h: int) -> dict[str, Any]:
    body_vis = pose.body_scores[i] > op.SCORE_THRESHOLD
    face_vis = ~np.all(pose.face_norm[i] == op.INVISIBLE, axis=-1)
    lh_vis = ~np.all(pose.lhand_norm[i] == op.INVISIBLE, axis=-1)
    rh_vis = ~np.all(pose.rhand_norm[i] == op.INVISIBLE, axis=-1)
    eyes = list(FACE_EYES_FROM_BODY)
    face70 = np.concatenate([pose.face_norm[i], pose.body_norm[i, eyes]], axis=0)
    face70_scores = np.concatenate([pose.face_scores[i], pose.body_scores[i, eyes]])
    face70_vis = np.concatenate([face_vis, body_vis[eyes]])
    b = slice(0, NUM_BODY18)
    f = slice(NUM_BODY18, op.NUM_BODY)
    return {
        "person_id": [int(pose.track_ids[i])],
        "pose_keypoints_2d": _triples(
            pose.body_norm[i, b], body_vis[b], pose.body_scores[i, b], w, h
        ),
        "foot_keypoints_2d": _triples(
            pose.body_norm[i, f], body_vis[f], pose.body_scores[i, f], w, h
        ),
        "face_keypoints_2d": _triples(face70, face70_vis, face70_scores, w, h),
        "hand_left_keypoints_2d": _triples(pose.lhand_norm[i], lh_vis, pose.lhand_scores[i], w, h),
        "hand_right_keypoints_2d": _triples(pose.rhand_norm[i], rh_vis, pose.rhand_scores[i], w, h),
    }


def to_pose_keypoint(seq: PoseSequence) -> list[dict[str, Any]]:
    """One POSE_KEYPOINT frame dict per frame of ``seq`` (pixels of ``seq.size_hw``).

    Frames without 2D poses give an empty ``people`` list.
    """
    h, w = seq.size_hw
    out: list[dict[str, Any]] = []
    for frame in seq.frames:
        people = []
        if frame.pose2d is not None:
            people = [
                _person_to_dict(frame.pose2d, i, w, h) for i in range(frame.pose2d.num_people)
            ]
        out.append({"people": people, "canvas_width": int(w), "canvas_height": int(h)})
    return out


def _read_part(person: Mapping[str, Any], key: str, n_min: int, where: str) -> np.ndarray | None:
    """(n, 3) float64 of a part, or None when absent/empty."""
    raw = person.get(key)
    if raw is None:
        return None
    try:
        a = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}.{key}: not a list of numbers ({exc})") from exc
    if a.size == 0:
        return None
    if a.size % 3 != 0:
        raise InputError(f"{where}.{key}: {a.size} values is not a multiple of 3 (x, y, c)")
    a = a.reshape(-1, 3)
    if a.shape[0] < n_min:
        raise InputError(f"{where}.{key}: expected at least {n_min} points, got {a.shape[0]}")
    return a


def _frame_is_normalised(people: Sequence[Mapping[str, Any]], where: str) -> bool:
    vals = []
    for j, person in enumerate(people):
        for key in (
            "pose_keypoints_2d", "foot_keypoints_2d", "face_keypoints_2d",
            "hand_left_keypoints_2d", "hand_right_keypoints_2d",
        ):  # fmt: skip
            a = _read_part(person, key, 0, f"{where}.people[{j}]")
            if a is not None:
                vals.append(a[a[:, 2] > 0, :2])
    if not vals:
        return False
    xy = np.concatenate(vals, axis=0)
    return bool(xy.size) and float(np.max(np.abs(xy))) <= 1.0


def _person_from_dict(
    person: Mapping[str, Any], w: int, h: int, normalised: bool, where: str
) -> tuple[np.ndarray, ...]:
    sx, sy = (1.0, 1.0) if normalised else (1.0 / w, 1.0 / h)

    def norm(a: np.ndarray) -> np.ndarray:
        return np.stack([a[:, 0] * sx, a[:, 1] * sy], axis=-1)

    body = np.zeros((op.NUM_BODY, 2))
    body_s = np.zeros((op.NUM_BODY,))
    b = _read_part(person, "pose_keypoints_2d", NUM_BODY18, where)
    if b is not None:
        if b.shape[0] != NUM_BODY18:
            raise InputError(
                f"{where}.pose_keypoints_2d: expected 18 OpenPose body points (COCO-18 order), "
                f"got {b.shape[0]} (BODY_25 and other layouts are not supported)"
            )
        body[:NUM_BODY18], body_s[:NUM_BODY18] = norm(b), b[:, 2]
    ft = _read_part(person, "foot_keypoints_2d", NUM_FEET, where)
    if ft is not None:
        body[NUM_BODY18:], body_s[NUM_BODY18:] = norm(ft[:NUM_FEET]), ft[:NUM_FEET, 2]
    body_s = np.maximum(body_s, 0.0)
    body[body_s == 0] = 0.0

    def part(key: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        a = _read_part(person, key, n, where)
        if a is None:
            return np.full((n, 2), op.INVISIBLE), np.zeros((n,))
        a = a[:n]
        xy, s = norm(a), np.maximum(a[:, 2], 0.0)
        xy[s < op.SCORE_THRESHOLD] = op.INVISIBLE
        return xy, s

    face, face_s = part("face_keypoints_2d", op.NUM_FACE)
    lh, lh_s = part("hand_left_keypoints_2d", op.NUM_HAND)
    rh, rh_s = part("hand_right_keypoints_2d", op.NUM_HAND)
    pid = person.get("person_id")
    tid = -1
    if isinstance(pid, (list, tuple)) and len(pid) == 1:
        tid = int(pid[0])
    elif isinstance(pid, (int, np.integer)):
        tid = int(pid)
    return body, body_s, face, face_s, lh, lh_s, rh, rh_s, np.int32(tid)


def _pose2d_from_people(
    people: Sequence[Mapping[str, Any]], w: int, h: int, normalised: bool, where: str
) -> Pose2D:
    if not people:
        return Pose2D.empty()
    rows = [
        _person_from_dict(p, w, h, normalised, f"{where}.people[{j}]") for j, p in enumerate(people)
    ]
    cols = [np.stack([r[k] for r in rows]) for k in range(9)]
    return Pose2D(*cols[:8], track_ids=cols[8])


def from_pose_keypoint(
    data: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    size_hw: tuple[int, int] | None = None,
    fps: float = 16.0,
    coords: str = "auto",
) -> PoseSequence:
    """Build a :class:`PoseSequence` (2D only) from POSE_KEYPOINT data.

    Args:
        data: a list of frame dicts (or one frame dict).
        size_hw: (H, W) used when a frame has no ``canvas_width``/``canvas_height``; it is
            also the sequence size. Default: the first frame's canvas.
        fps: frames per second of the result.
        coords: ``"auto"`` (a frame whose visible points all lie in [0, 1] is normalised,
            otherwise pixels), ``"pixels"`` or ``"normalized"``.

    Confidence 0 means missing. Face/hand points with confidence < 0.3 become −1 (our data
    model's invisible marker); missing body points become (0, 0) with score 0. Face point
    68/69 (the copied eyes) are dropped.

    Raises:
        InputError: malformed data, no canvas size anywhere, or an unsupported body layout.
    """
    if coords not in ("auto", "pixels", "normalized", "normalised"):
        raise InputError(f"coords must be 'auto', 'pixels' or 'normalized', got {coords!r}")
    frames_in = [data] if isinstance(data, Mapping) else list(data)
    out_frames: list[PoseFrame] = []
    seq_hw = tuple(size_hw) if size_hw is not None else None
    for t, fr in enumerate(frames_in):
        where = f"POSE_KEYPOINT[{t}]"
        if not isinstance(fr, Mapping):
            raise InputError(f"{where}: expected a dict with 'people', got {type(fr).__name__}")
        cw, ch = fr.get("canvas_width"), fr.get("canvas_height")
        if cw and ch:
            hw = (int(ch), int(cw))
        elif seq_hw is not None:
            hw = (int(seq_hw[0]), int(seq_hw[1]))
        else:
            raise InputError(
                f"{where} has no canvas_width/canvas_height; pass size_hw=(H, W) of the image "
                "the keypoints were measured on"
            )
        if seq_hw is None:
            seq_hw = hw
        people = fr.get("people") or []
        if coords == "auto":
            normalised = _frame_is_normalised(people, where)
        else:
            normalised = coords != "pixels"
        pose = _pose2d_from_people(people, hw[1], hw[0], normalised, where)
        out_frames.append(PoseFrame(pose2d=pose))
    if seq_hw is None:
        raise InputError("POSE_KEYPOINT is empty and no size_hw was given")
    return PoseSequence(
        frames=tuple(out_frames), size_hw=seq_hw, fps=fps, meta={"source": "POSE_KEYPOINT"}
    )
