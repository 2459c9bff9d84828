"""Whole-body 2D poses: YOLOX people + DWPose (reference_spec.md §2–§3).

Entry point: :func:`detect_poses` (frames → one :class:`~scail_pose_core.types.PoseFrame` per
frame); models: :class:`YoloxDetector`, :class:`DWPoseEstimator`; options: :class:`DetectOptions`.
"""

from __future__ import annotations

from ..detection.yolox import YoloxDetector
from .convert import wholebody_to_pose2d
from .detect import PEOPLE_MODES, DetectOptions, as_rgb_frames, detect_poses, select_people
from .dwpose import DWPoseEstimator

__all__ = [
    "PEOPLE_MODES",
    "DWPoseEstimator",
    "DetectOptions",
    "YoloxDetector",
    "as_rgb_frames",
    "detect_poses",
    "select_people",
    "wholebody_to_pose2d",
]
