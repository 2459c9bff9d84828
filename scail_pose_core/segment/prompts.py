"""Choose the characters of a multi-person video and build their segmentation prompts.

A character is prompted on one frame (its *prompt frame*) with its person box plus its own head
keypoints (nose, neck, right eye, left eye — OpenPose indices 0, 1, 14, 15) as positive points.
The reference takes the keypoint row by the loop index instead of the chosen box's row
(reference_spec.md §7 step 2, §10.9); here every prompt uses the chosen person's own row.

Coordinates: boxes and points are **pixels** of the frame (xyxy / xy); 2D poses come in the
normalised convention of :mod:`scail_pose_core.types` and are scaled by (W, H) here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..skeletons import openpose as op
from ..types import Pose2D, PoseFrame

#: OpenPose body indices used as positive point prompts: nose, neck, right eye, left eye.
HEAD_POINT_INDICES: tuple[int, ...] = (0, 1, 14, 15)
#: Relative padding of a box synthesised from keypoints when a frame has no detector boxes.
KEYPOINT_BOX_PAD = 0.1


@dataclass(frozen=True)
class CharacterPrompt:
    """How one character is prompted.

    Fields:
        character_id: the id the character keeps for the whole video (0 = first chosen).
        frame_index: the frame the prompt applies to (frames before it have no mask).
        box_xyxy: (4,) float32 pixels, or None.
        points_xy: (K, 2) float32 pixels (may be empty).
        labels: (K,) int32, 1 = positive, 0 = negative.
        mask: (H, W) bool, or None: a mask prompt (takes the place of box and points).
    """

    character_id: int
    frame_index: int
    box_xyxy: np.ndarray | None = None
    points_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int32))
    mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.frame_index < 0:
            raise InputError(f"CharacterPrompt.frame_index must be >= 0, got {self.frame_index}")
        pts = np.asarray(self.points_xy, np.float32).reshape(-1, 2)
        lab = np.asarray(self.labels, np.int32).reshape(-1)
        if lab.shape[0] != pts.shape[0]:
            raise InputError(
                f"CharacterPrompt: {pts.shape[0]} points but {lab.shape[0]} labels; give one "
                "label (1 positive, 0 negative) per point"
            )
        box = None if self.box_xyxy is None else np.asarray(self.box_xyxy, np.float32).reshape(4)
        mask = None if self.mask is None else np.asarray(self.mask, bool)
        if mask is not None and mask.ndim != 2:
            raise InputError(f"CharacterPrompt.mask: expected (H, W), got {mask.shape}")
        if box is None and pts.shape[0] == 0 and mask is None:
            raise InputError(
                f"CharacterPrompt for character {self.character_id}: give a box, points or a mask"
            )
        object.__setattr__(self, "character_id", int(self.character_id))
        object.__setattr__(self, "frame_index", int(self.frame_index))
        object.__setattr__(self, "points_xy", pts)
        object.__setattr__(self, "labels", lab)
        object.__setattr__(self, "box_xyxy", box)
        object.__setattr__(self, "mask", mask)


def _people_boxes(frame: PoseFrame, size_hw: tuple[int, int]) -> np.ndarray:
    """(P, 4) float32 pixel boxes of the people of one frame, row-aligned with ``frame.pose2d``.

    Detector boxes are used when their count equals the number of 2D poses (detect_poses makes
    one pose per box, in the same order) or when there are no 2D poses; otherwise boxes are made
    from each pose's visible body keypoints (padded by :data:`KEYPOINT_BOX_PAD`).
    """
    pose = frame.pose2d
    det = frame.detections
    if det is not None and (pose is None or len(det) == pose.num_people):
        return np.asarray(det.boxes_xyxy, np.float32)
    if pose is None:
        return np.zeros((0, 4), np.float32)
    return keypoint_boxes(pose, size_hw)


def keypoint_boxes(pose: Pose2D, size_hw: tuple[int, int]) -> np.ndarray:
    """(P, 4) float32 pixel boxes around each person's visible body keypoints (padded 10 %).

    A person without any visible body point gets a zero box.
    """
    h, w = size_hw
    out = np.zeros((pose.num_people, 4), np.float32)
    for p in range(pose.num_people):
        vis = pose.body_scores[p] > op.SCORE_THRESHOLD
        if not vis.any():
            continue
        xy = pose.body_norm[p][vis] * np.array([w, h], np.float64)
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        pad = (hi - lo) * KEYPOINT_BOX_PAD + 2.0
        out[p] = np.concatenate([lo - pad, hi + pad]).astype(np.float32)
    return out


def head_points(pose: Pose2D | None, person: int, size_hw: tuple[int, int]) -> np.ndarray:
    """(K, 2) float32 pixels: the visible head keypoints of ``person`` (its own row).

    Visible means score > 0.3 (OpenPose indices :data:`HEAD_POINT_INDICES`).
    """
    if pose is None or person >= pose.num_people:
        return np.zeros((0, 2), np.float32)
    h, w = size_hw
    idx = [j for j in HEAD_POINT_INDICES if pose.body_scores[person, j] > op.SCORE_THRESHOLD]
    if not idx:
        return np.zeros((0, 2), np.float32)
    return (pose.body_norm[person, idx] * np.array([w, h], np.float64)).astype(np.float32)


def _box_area(boxes: np.ndarray) -> np.ndarray:
    wh = np.clip(boxes[:, 2:4] - boxes[:, 0:2], 0.0, None)
    return wh[:, 0] * wh[:, 1]


def prompt_for_person(
    frame: PoseFrame,
    frame_index: int,
    person: int,
    character_id: int,
    size_hw: tuple[int, int],
) -> CharacterPrompt:
    """The prompt (box + own head keypoints) for person row ``person`` of ``frame``."""
    boxes = _people_boxes(frame, size_hw)
    if not 0 <= person < boxes.shape[0]:
        raise InputError(
            f"frame {frame_index} has {boxes.shape[0]} people; person index {person} is out of "
            f"range (valid: 0..{boxes.shape[0] - 1})"
        )
    pts = head_points(frame.pose2d, person, size_hw)
    return CharacterPrompt(
        character_id=character_id,
        frame_index=frame_index,
        box_xyxy=boxes[person],
        points_xy=pts,
        labels=np.ones((pts.shape[0],), np.int32),
    )


def choose_characters(
    poses: PoseFrame | Sequence[PoseFrame],
    size_hw: tuple[int, int],
    num_characters: int = 2,
    indices: Sequence[int] | None = None,
    start_frame: int | None = None,
    additions: Sequence[tuple[int, int]] = (),
) -> list[CharacterPrompt]:
    """Choose the characters and build one prompt per character, ordered by character id.

    Args:
        poses: the 2D result of the unmasked video (``detect_poses``), or just the PoseFrame of
            the prompt frame (then ``start_frame`` is 0 and ``additions`` must be empty).
        size_hw: (H, W) of the frames the poses were measured on.
        num_characters: how many characters to pick automatically (the N largest boxes by area
            on the start frame; the reference uses 2). Ignored when ``indices`` is given.
        indices: explicit person rows (detector order) of the start frame, in character order.
        start_frame: the frame to choose on; default: the first frame with at least one person.
        additions: ``(frame_index, person_index)`` pairs: characters that enter later, each
            prompted on its own frame; they get the next ids in the order given.

    Returns:
        list of :class:`CharacterPrompt` with ids 0..C-1.

    Raises:
        InputError: no person in any frame, an index out of range, ``num_characters < 1``.
    """
    frames: Sequence[PoseFrame] = [poses] if isinstance(poses, PoseFrame) else list(poses)
    if not frames:
        raise InputError("choose_characters: no poses given (expected at least one PoseFrame)")
    if indices is None and num_characters < 1:
        raise InputError(f"num_characters must be >= 1, got {num_characters}")
    if start_frame is None:
        start_frame = next(
            (t for t, f in enumerate(frames) if _people_boxes(f, size_hw).shape[0] > 0), None
        )
        if start_frame is None:
            raise InputError(
                f"choose_characters: no person was detected in any of the {len(frames)} frames; "
                "nothing to segment (check the detector threshold or give masks instead)"
            )
    if not 0 <= start_frame < len(frames):
        raise InputError(f"start_frame {start_frame} is outside 0..{len(frames) - 1}")
    boxes = _people_boxes(frames[start_frame], size_hw)
    if indices is None:
        order = np.argsort(-_box_area(boxes), kind="stable")[:num_characters]
        chosen = [int(i) for i in order]
    else:
        chosen = [int(i) for i in indices]
        if not chosen:
            raise InputError("choose_characters: 'indices' is empty; give at least one person")
        if len(set(chosen)) != len(chosen):
            raise InputError(f"choose_characters: duplicate person indices {chosen}")
    prompts = [
        prompt_for_person(frames[start_frame], start_frame, p, cid, size_hw)
        for cid, p in enumerate(chosen)
    ]
    for frame_index, person in additions:
        if not 0 <= frame_index < len(frames):
            raise InputError(
                f"added character at frame {frame_index}: outside 0..{len(frames) - 1}"
            )
        prompts.append(
            prompt_for_person(frames[frame_index], frame_index, person, len(prompts), size_hw)
        )
    return prompts
