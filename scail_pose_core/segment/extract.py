"""Per-character 3D extraction and 2D assignment (reference_spec.md §7 steps 4–7, fixed).

For every character and frame, the character's *masked frame* (its mask's pixels kept, all
others set to the reference's dark green (30, 60, 30)) is built in memory — no lossy re-encode
as in the reference — and lifted with NLF (detection [0], as the reference). Its 3D joints
become that character's slot, with ``track_ids`` = the character id, so the renderer draws
each character in its own palette whatever the detector order; frames where its mask is empty
(or NLF finds nobody) mark the slot ``present=False``.

2D poses from the unmasked video (``detect_poses``) are given to characters by mask overlap,
not by detector order: the share of a person's visible keypoints (body, face and hands, each
part weighted) that fall inside each character's mask, slightly dilated. A one-to-one
Hungarian matching maximises the overlap, with a small penalty for jumping away from the
character's previous 2D position as tie-breaker when masks overlap. A hand whose points lie in
another character's mask rather than its owner's is dropped (DWPose mixes hands when people
touch).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..runtime import CancelFn, ProgressFn, Reporter
from ..skeletons import openpose as op
from ..skeletons import smpl
from ..tracking import INFEASIBLE, mask_box, match
from ..types import Detections, Pose2D, Pose3D, PoseFrame, PoseSequence
from .masks import CharacterMasks

LOGGER = logging.getLogger("scail_pose")

#: Pixels outside a character's mask in its masked frame (reference_spec.md §7 step 4).
BACKGROUND_RGB = (30, 60, 30)

#: Lifts an iterable of masked full-size frames (H, W, 3) uint8 to detection [0] of each:
#: (24, 3) float32 camera mm, or None where nobody was found.
LiftFn = Callable[[Iterable[np.ndarray]], Sequence[np.ndarray | None]]


@dataclass(frozen=True)
class ExtractOptions:
    """Options of :func:`extract_characters`.

    Attributes:
        background_rgb: colour outside the mask in a character's masked frame.
        chunk_size: frames processed together (bounds memory).
        min_mask_pixels: a mask with fewer pixels counts as "character absent".
        min_keypoint_overlap: least weighted share of a 2D person's visible keypoints inside a
            character's mask for the person to be that character.
        keypoint_margin_px: masks are dilated by this many pixels for the keypoint test
            (thin limbs, fingers and faces often fall just outside a segmentation).
        part_weights: weights of body, face, left hand, right hand in the overlap share.
        proximity_weight: tie-breaker cost per (distance to the character's previous 2D
            centre / image diagonal × 4), capped at 1.
        drop_foreign_hands: drop a hand that lies in another character's mask but not in its
            owner's.
        fps: fps written into the returned sequence.
        lift: :class:`~scail_pose_core.lift3d.LiftOptions` for NLF (None = defaults).
    """

    background_rgb: tuple[int, int, int] = BACKGROUND_RGB
    chunk_size: int = 32
    min_mask_pixels: int = 16
    min_keypoint_overlap: float = 0.5
    keypoint_margin_px: int = 6
    part_weights: tuple[float, float, float, float] = (1.0, 0.5, 0.25, 0.25)
    proximity_weight: float = 0.2
    drop_foreign_hands: bool = True
    fps: float = 16.0
    lift: object | None = field(default=None)

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise InputError(f"ExtractOptions.chunk_size must be >= 1, got {self.chunk_size}")
        if not 0.0 <= self.min_keypoint_overlap <= 1.0:
            raise InputError(
                f"ExtractOptions.min_keypoint_overlap must be in [0, 1], got "
                f"{self.min_keypoint_overlap}"
            )


def masked_frame(frame: np.ndarray, mask: np.ndarray, background=BACKGROUND_RGB) -> np.ndarray:
    """(H, W, 3) uint8: ``frame`` where ``mask`` is True, ``background`` elsewhere."""
    out = np.empty_like(frame)
    out[...] = np.asarray(background, np.uint8)
    np.copyto(out, frame, where=mask[..., None])
    return out


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    if r <= 0 or not mask.any():
        return mask
    import cv2

    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return cv2.dilate(mask.astype(np.uint8), k).astype(bool)


def _part_points(pose: Pose2D, p: int, size_hw: tuple[int, int]) -> list[np.ndarray]:
    """Visible points of body, face, lhand, rhand of person ``p`` in integer pixels."""
    h, w = size_hw
    scale = np.array([w, h], np.float64)
    parts = [
        (pose.body_norm[p], pose.body_scores[p]),
        (pose.face_norm[p], pose.face_scores[p]),
        (pose.lhand_norm[p], pose.lhand_scores[p]),
        (pose.rhand_norm[p], pose.rhand_scores[p]),
    ]
    out = []
    for xy, sc in parts:
        vis = (sc > op.SCORE_THRESHOLD) & np.all(xy != op.INVISIBLE, axis=1)
        px = np.floor(xy[vis] * scale).astype(np.int64)
        inside = (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)
        out.append(px[inside])
    return out


def _share_inside(points: np.ndarray, mask: np.ndarray) -> float | None:
    if points.shape[0] == 0:
        return None
    return float(mask[points[:, 1], points[:, 0]].mean())


def keypoint_overlap(
    pose: Pose2D, masks: np.ndarray, weights: Sequence[float], size_hw: tuple[int, int]
) -> tuple[np.ndarray, list[list[np.ndarray]]]:
    """(C, P) weighted share of each person's visible keypoints inside each mask.

    Returns the matrix and each person's per-part pixel points (for the hand check).
    """
    c_n, p_n = masks.shape[0], pose.num_people
    share = np.zeros((c_n, p_n))
    pts = [_part_points(pose, p, size_hw) for p in range(p_n)]
    for c in range(c_n):
        for p in range(p_n):
            num = den = 0.0
            for part, wgt in zip(pts[p], weights, strict=True):
                s = _share_inside(part, masks[c])
                if s is not None:
                    num += wgt * s
                    den += wgt
            share[c, p] = num / den if den > 0 else 0.0
    return share, pts


def _center(points: list[np.ndarray]) -> np.ndarray | None:
    body = points[0]
    return body.mean(axis=0) if body.shape[0] else None


class PeopleAssigner:
    """Frame-by-frame assignment of 2D people to characters (see the module docstring)."""

    def __init__(self, num_characters: int, size_hw: tuple[int, int], options: ExtractOptions):
        self.options = options
        self.size_hw = size_hw
        self.diag = float(np.hypot(*size_hw))
        self.last_center: list[np.ndarray | None] = [None] * num_characters

    def assign(self, pose: Pose2D | None, masks: np.ndarray, present: np.ndarray) -> Pose2D:
        """Return a Pose2D with one row per character (empty rows where nobody matched).

        Args:
            pose: all 2D people of the frame (unmasked video), or None.
            masks: (C, H, W) bool character masks of the frame.
            present: (C,) bool characters present in the frame.
        """
        c_n = masks.shape[0]
        rows = _empty_rows(c_n)
        if pose is None or pose.num_people == 0:
            return _rows_to_pose(rows)
        o = self.options
        dil = np.stack(
            [
                _dilate(masks[c], o.keypoint_margin_px) if present[c] else masks[c]
                for c in range(c_n)
            ]
        )
        share, pts = keypoint_overlap(pose, dil, o.part_weights, self.size_hw)
        cost = np.full(share.shape, INFEASIBLE)
        for c in range(c_n):
            if not present[c]:
                continue
            for p in range(pose.num_people):
                if share[c, p] < o.min_keypoint_overlap or share[c, p] <= 0:
                    continue
                cost[c, p] = 1.0 - share[c, p]
                ctr, last = _center(pts[p]), self.last_center[c]
                if ctr is not None and last is not None and o.proximity_weight > 0:
                    d = min(1.0, float(np.linalg.norm(ctr - last)) / self.diag * 4.0)
                    cost[c, p] += o.proximity_weight * d
        for c, p in match(cost, INFEASIBLE / 2):
            row = _person_row(pose, p)
            if o.drop_foreign_hands:
                for part, key in ((2, "lhand"), (3, "rhand")):
                    own = _share_inside(pts[p][part], dil[c])
                    if own is None or own >= 0.5:
                        continue
                    others = [
                        _share_inside(pts[p][part], dil[k]) or 0.0
                        for k in range(c_n)
                        if k != c and present[k]
                    ]
                    if others and max(others) >= 0.5:
                        row[key + "_norm"][:] = op.INVISIBLE
                        row[key + "_scores"][:] = 0.0
            rows[c] = row
            ctr = _center(pts[p])
            if ctr is not None:
                self.last_center[c] = ctr
        return _rows_to_pose(rows)


_FIELDS = (
    ("body_norm", (op.NUM_BODY, 2)), ("body_scores", (op.NUM_BODY,)),
    ("face_norm", (op.NUM_FACE, 2)), ("face_scores", (op.NUM_FACE,)),
    ("lhand_norm", (op.NUM_HAND, 2)), ("lhand_scores", (op.NUM_HAND,)),
    ("rhand_norm", (op.NUM_HAND, 2)), ("rhand_scores", (op.NUM_HAND,)),
)  # fmt: skip


def _empty_row() -> dict[str, np.ndarray]:
    row = {k: np.zeros(shape) for k, shape in _FIELDS}
    for k in ("face_norm", "lhand_norm", "rhand_norm"):
        row[k][:] = op.INVISIBLE
    return row


def _empty_rows(n: int) -> list[dict[str, np.ndarray]]:
    return [_empty_row() for _ in range(n)]


def _person_row(pose: Pose2D, p: int) -> dict[str, np.ndarray]:
    return {k: np.array(getattr(pose, k)[p], np.float64) for k, _ in _FIELDS}


def _rows_to_pose(rows: list[dict[str, np.ndarray]], ids: np.ndarray | None = None) -> Pose2D:
    arrays = {k: np.stack([r[k] for r in rows]) for k, _ in _FIELDS}
    return Pose2D(**arrays, track_ids=ids)


def _default_lift(model, lift_options) -> LiftFn:
    from ..lift3d.lift import LiftOptions, lift_images

    opts = lift_options if lift_options is not None else LiftOptions()

    def lift(images: Iterable[np.ndarray]) -> Sequence[np.ndarray | None]:
        return lift_images(images, model, opts)

    return lift


def _check_inputs(frames, masks: CharacterMasks, pose_frames) -> tuple[int, int, int]:
    if not isinstance(masks, CharacterMasks):
        raise InputError(f"masks: expected CharacterMasks, got {type(masks).__name__}")
    if isinstance(frames, np.ndarray):
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise InputError(
                f"frames: expected (T, H, W, 3) uint8 RGB, got {frames.shape} {frames.dtype}"
            )
        t, h, w = frames.shape[:3]
    else:
        t = len(frames)
        h, w = np.asarray(frames[0]).shape[:2]
    if (h, w) != masks.size_hw:
        raise InputError(
            f"masks are {masks.size_hw[0]}x{masks.size_hw[1]} (HxW) but frames are {h}x{w}; "
            "masks must be made on the same frames"
        )
    if t != masks.num_frames:
        raise InputError(
            f"{t} frames but masks cover {masks.num_frames} frames; give one mask per frame"
        )
    if pose_frames is not None and len(pose_frames) != t:
        raise InputError(
            f"{len(pose_frames)} pose frames for {t} video frames; run detect_poses on the same "
            "(unmasked) frames"
        )
    return int(t), int(h), int(w)


def extract_characters(
    frames,
    masks: CharacterMasks,
    pose_frames: Sequence[PoseFrame] | None,
    nlf_model=None,
    options: ExtractOptions = ExtractOptions(),  # noqa: B008 - frozen dataclass
    progress: ProgressFn | None = None,
    check_cancel: CancelFn | None = None,
    lift_fn: LiftFn | None = None,
) -> PoseSequence:
    """Per-character 3D tracks and 2D poses → one multi-character :class:`PoseSequence`.

    Args:
        frames: (T, H, W, 3) uint8 RGB (the unmasked video), or an indexable sequence of frames.
        masks: :class:`CharacterMasks` over the same frames.
        pose_frames: ``detect_poses`` output for the same frames (None: no 2D overlay).
        nlf_model: an NLF model (``load_nlf``); not needed when ``lift_fn`` is given.
        options: :class:`ExtractOptions`.
        lift_fn: replaces NLF (tests, other lifters); see :data:`LiftFn`.

    Returns:
        A sequence with, per frame: ``pose3d`` with one slot per character in id order
        (``track_ids`` = character ids, ``present`` False where the mask is empty or NLF found
        nobody), ``pose2d`` with one row per character (the assigned person, or an empty row),
        ``detections`` = each character's mask box (score 1, or a zero box with score 0).
        ``meta["characters"]`` lists ids, mask source and frames present per character.

    Raises:
        InputError: size or frame-count mismatch between frames, masks and poses.
    """
    t_n, h, w = _check_inputs(frames, masks, pose_frames)
    c_n = masks.num_characters
    ids = masks.character_ids
    if lift_fn is None:
        if nlf_model is None:
            raise InputError("extract_characters: give an NLF model (load_nlf) or a lift_fn")
        lift_fn = _default_lift(nlf_model, options.lift)
    reporter = Reporter(progress, check_cancel).start(t_n)
    assigner = PeopleAssigner(c_n, (h, w), options)
    bg = np.asarray(options.background_rgb, np.uint8)
    out_frames: list[PoseFrame] = []
    present_count = np.zeros((c_n,), np.int64)
    for s in range(0, t_n, options.chunk_size):
        e = min(t_n, s + options.chunk_size)
        mk = masks.masks[s:e]
        present = mk.sum(axis=(2, 3)) >= options.min_mask_pixels  # (t, C)
        jobs = [(f, c) for f in range(e - s) for c in range(c_n) if present[f, c]]

        def images(jobs=jobs, s=s, mk=mk) -> Iterator[np.ndarray]:
            for f, c in jobs:
                yield masked_frame(np.asarray(frames[s + f]), mk[f, c], bg)

        results = list(lift_fn(images())) if jobs else []
        if len(results) != len(jobs):
            raise InputError(
                f"the lifter returned {len(results)} results for {len(jobs)} masked frames"
            )
        joints = np.zeros((e - s, c_n, smpl.NUM_JOINTS, 3), np.float32)
        found = np.zeros((e - s, c_n), bool)
        for (f, c), j in zip(jobs, results, strict=True):
            if j is not None:
                joints[f, c] = np.asarray(j, np.float32).reshape(smpl.NUM_JOINTS, 3)
                found[f, c] = True
        for f in range(e - s):
            boxes = np.zeros((c_n, 4), np.float32)
            scores = np.zeros((c_n,), np.float32)
            for c in range(c_n):
                b = mask_box(mk[f, c]) if present[f, c] else None
                if b is not None:
                    boxes[c], scores[c] = b, 1.0
            pose = pose_frames[s + f].pose2d if pose_frames is not None else None
            p2d = assigner.assign(pose, mk[f], present[f])
            p2d = Pose2D(**{k: getattr(p2d, k) for k, _ in _FIELDS}, track_ids=ids)
            present_count += found[f]
            out_frames.append(
                PoseFrame(
                    detections=Detections(boxes, scores),
                    pose2d=p2d,
                    pose3d=Pose3D(joints[f], found[f], ids),
                )
            )
        reporter.step(e - s)
    for c in range(c_n):
        if present_count[c] == 0:
            LOGGER.warning(
                "character %d has no 3D pose in any frame (empty mask everywhere, or NLF found "
                "nobody in it); it will not be rendered",
                int(ids[c]),
            )
    meta = {
        "characters": {
            "ids": [int(i) for i in ids],
            "source": masks.source,
            "frames_present": [int(n) for n in present_count],
        }
    }
    return PoseSequence(tuple(out_frames), (h, w), fps=options.fps, meta=meta)
