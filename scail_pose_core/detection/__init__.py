"""People detection: YOLOX on onnxruntime (reference_spec.md §2). Entry point: :class:`YoloxDetector`."""

from __future__ import annotations

from .nms import class_aware_nms, nms
from .yolox import YoloxDetector, YoloxThresholds, decode_person_boxes, letterbox

__all__ = [
    "YoloxDetector",
    "YoloxThresholds",
    "class_aware_nms",
    "decode_person_boxes",
    "letterbox",
    "nms",
]
