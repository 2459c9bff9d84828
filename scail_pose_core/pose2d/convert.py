"""COCO-WholeBody-133 keypoints (frame pixels) → :class:`Pose2D` (reference_spec.md §3.5).

Entry point: :func:`wholebody_to_pose2d`. The index map lives in
:data:`~scail_pose_core.skeletons.openpose.OP134_FROM_WB133`.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..skeletons import openpose as op
from ..types import Pose2D

NUM_WHOLEBODY = 133


def wholebody_to_op134(
    keypoints_px: np.ndarray, scores: np.ndarray, threshold: float = op.SCORE_THRESHOLD
) -> tuple[np.ndarray, np.ndarray]:
    """Insert the synthesised neck and reorder to the 134-point OpenPose-style layout.

    Neck xy = mean of COCO shoulders 5 and 6 (always); neck score = 1.0 when both shoulder
    scores are > ``threshold``, else 0.0.

    Args:
        keypoints_px: (P, 133, 2) pixels. scores: (P, 133).

    Returns:
        (P, 134, 2) float64 pixels, (P, 134) float32 scores.
    """
    kp = np.asarray(keypoints_px, np.float64)
    sc = np.asarray(scores, np.float32)
    if kp.ndim != 3 or kp.shape[1:] != (NUM_WHOLEBODY, 2) or sc.shape != kp.shape[:2]:
        raise InputError(
            f"expected keypoints (P, 133, 2) and scores (P, 133), got {kp.shape} and {sc.shape}"
        )
    neck_xy = (kp[:, op.WB_LEFT_SHOULDER] + kp[:, op.WB_RIGHT_SHOULDER]) / 2.0
    both = (sc[:, op.WB_LEFT_SHOULDER] > threshold) & (sc[:, op.WB_RIGHT_SHOULDER] > threshold)
    src = op.OP134_FROM_WB133
    is_neck = src == op.NECK_SOURCE
    idx = np.where(is_neck, 0, src)
    xy = kp[:, idx]
    s = sc[:, idx]
    xy[:, is_neck] = neck_xy[:, None]
    s[:, is_neck] = both.astype(np.float32)[:, None]
    return xy, s


def wholebody_to_pose2d(
    keypoints_px: np.ndarray,
    scores: np.ndarray,
    size_hw: tuple[int, int],
    threshold: float = op.SCORE_THRESHOLD,
) -> Pose2D:
    """DWPose output of P people → :class:`Pose2D` (normalised by the frame's W, H).

    Body points (OpenPose-18 + 6 feet) keep their coordinates whatever their score (visibility
    is score > ``threshold``); face and hand points with score < ``threshold`` become −1.

    Args:
        keypoints_px: (P, 133, 2) frame pixels (COCO-WholeBody order).
        scores: (P, 133).
        size_hw: (H, W) of the frame.
        threshold: visibility threshold (0.3).
    """
    h, w = size_hw
    if np.asarray(keypoints_px).shape[0] == 0:
        return Pose2D.empty()
    xy, s = wholebody_to_op134(keypoints_px, scores, threshold)
    xy /= np.array([w, h], np.float64)
    xy[(s < threshold) & _FACE_HAND] = op.INVISIBLE
    # Built here with the dtypes and shapes Pose2D wants: skip its validation copies.
    parts = [
        np.ascontiguousarray(a[:, sl])
        for sl in (op.BODY_SLICE, op.FACE_SLICE, op.LHAND_SLICE, op.RHAND_SLICE)
        for a in (xy, s)
    ]
    return Pose2D.trusted(*parts, np.full((xy.shape[0],), -1, np.int32))


#: (134,) bool: face and hand points (hidden as −1 below the threshold).
_FACE_HAND = np.zeros(op.NUM_OP134, bool)
_FACE_HAND[op.FACE_SLICE] = _FACE_HAND[op.LHAND_SLICE] = _FACE_HAND[op.RHAND_SLICE] = True
