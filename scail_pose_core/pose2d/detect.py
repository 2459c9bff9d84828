"""The 2D stage over a video: YOLOX people → DWPose whole-body → :class:`PoseFrame` per frame.

Entry point: :func:`detect_poses`. Frames stream through in chunks of ``DetectOptions.chunk_size``
(memory does not grow with video length, apart from the small per-frame results).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ..detection.yolox import YoloxDetector, YoloxThresholds
from ..errors import InputError
from ..runtime import CancelFn, ProgressFn, Reporter
from ..skeletons import openpose as op
from ..types import Detections, PoseFrame
from .convert import wholebody_to_pose2d
from .dwpose import DWPoseEstimator

LOGGER = logging.getLogger("scail_pose")

#: People selection modes: every detection, only person 0 (highest score, the reference's
#: single-person choice), or the ``max_people`` largest boxes.
PEOPLE_MODES: tuple[str, ...] = ("all", "first", "largest")


@dataclass(frozen=True)
class DetectOptions:
    """Options of :func:`detect_poses` (reference values as defaults).

    Fields:
        score_threshold: YOLOX final person score threshold (> 0.3).
        nms_iou_threshold: YOLOX NMS IoU threshold (0.45, legacy +1 IoU).
        nms_score_threshold: YOLOX NMS candidate threshold (> 0.1).
        keypoint_threshold: visibility threshold of body (> 0.3) and face/hand (< 0.3 → −1) points.
        people: one of :data:`PEOPLE_MODES`: "all" (multi-person), "first" (person 0 only, the
            reference's single-person choice) or "largest" (the ``max_people`` largest boxes).
        max_people: cap on the people kept ("all": the highest scores; "largest": N, default 1).
        fallback_full_image: when YOLOX finds nobody, run DWPose on the whole frame as the
            reference does (reference_spec.md §10.4) — the frame then has empty Detections but a
            one-person Pose2D. Off by default: nobody → empty Detections and empty Pose2D.
        chunk_size: frames per chunk (batching unit; bounds memory).
    """

    score_threshold: float = 0.3
    nms_iou_threshold: float = 0.45
    nms_score_threshold: float = 0.1
    keypoint_threshold: float = op.SCORE_THRESHOLD
    people: str = "all"
    max_people: int | None = None
    fallback_full_image: bool = False
    chunk_size: int = 16

    def __post_init__(self) -> None:
        if self.people not in PEOPLE_MODES:
            raise InputError(
                f"DetectOptions.people={self.people!r}; expected one of {PEOPLE_MODES}"
            )
        for name in ("score_threshold", "nms_iou_threshold", "nms_score_threshold",
                     "keypoint_threshold"):  # fmt: skip
            v = getattr(self, name)
            if not 0.0 <= float(v) <= 1.0:
                raise InputError(f"DetectOptions.{name}={v}; expected a value in [0, 1]")
        if self.max_people is not None and int(self.max_people) < 1:
            raise InputError(f"DetectOptions.max_people={self.max_people}; expected None or >= 1")
        if int(self.chunk_size) < 1:
            raise InputError(f"DetectOptions.chunk_size={self.chunk_size}; expected >= 1")

    @property
    def thresholds(self) -> YoloxThresholds:
        return YoloxThresholds(
            self.score_threshold, self.nms_iou_threshold, self.nms_score_threshold
        )


def _frames_view(arr: np.ndarray, what: str = "frames") -> np.ndarray:
    """A (T, H, W, C) view of an image array (no copy); C in {1, 3, 4}.

    Accepted: (T, H, W, C), (H, W, C) (one image, C in 1/3/4), (T, H, W) grayscale, (H, W)
    grayscale. An array of ndim 3 whose last axis is 1, 3 or 4 is read as one image.
    """
    a = np.asarray(arr)
    if a.dtype != np.uint8:
        raise InputError(
            f"{what}: expected uint8 pixels (0-255), got dtype {a.dtype}. Convert float images "
            "in [0, 1] with (x * 255).round().clip(0, 255).astype(np.uint8)."
        )
    if a.ndim == 2:
        a = a[None, :, :, None]
    elif a.ndim == 3:
        a = a[None] if a.shape[-1] in (1, 3, 4) else a[..., None]
    if a.ndim != 4 or a.shape[-1] not in (1, 3, 4):
        raise InputError(
            f"{what}: expected (T, H, W, 3) RGB (or gray / RGBA), got shape {np.shape(arr)}"
        )
    if a.shape[0] > 0 and (a.shape[1] == 0 or a.shape[2] == 0):
        raise InputError(f"{what}: frames have zero size {a.shape[1:3]} (H, W)")
    return a


_NOTED: set[str] = set()


def _note_once(key: str, msg: str) -> None:
    if key not in _NOTED:
        _NOTED.add(key)
        LOGGER.info(msg)


def as_rgb_frames(arr: np.ndarray, what: str = "frames") -> np.ndarray:
    """Any accepted image array → (T, H, W, 3) uint8 RGB.

    Grayscale is replicated to RGB, an alpha channel is dropped (each noted once in the log).
    """
    a = _frames_view(arr, what)
    if a.shape[-1] == 1:
        _note_once("gray", "2D pose: grayscale input converted to RGB")
        return np.repeat(a, 3, axis=-1)
    if a.shape[-1] == 4:
        _note_once("rgba", "2D pose: RGBA input, alpha channel dropped")
        return np.ascontiguousarray(a[..., :3])
    return np.ascontiguousarray(a)  # OpenCV needs C-contiguous frames (no copy when they are)


def iter_frame_chunks(
    frames: np.ndarray | Iterable[np.ndarray], chunk_size: int
) -> Iterator[np.ndarray]:
    """Yield (t ≤ chunk_size, H, W, 3) uint8 RGB chunks from an array or an iterable of chunks."""
    sources = [frames] if isinstance(frames, np.ndarray) else frames
    for src in sources:
        view = _frames_view(src)
        for i in range(0, view.shape[0], chunk_size):
            yield as_rgb_frames(view[i : i + chunk_size])


def select_people(
    det: Detections, people: str = "all", max_people: int | None = None
) -> Detections:
    """Keep some of a frame's detections; the result stays in descending score order.

    Args:
        det: the frame's detections (descending score).
        people: "all", "first" (row 0) or "largest" (``max_people`` largest areas, default 1).
        max_people: cap for "all" / N for "largest".
    """
    n = len(det)
    if n == 0:
        return det
    if people == "first":
        idx = np.array([0])
    elif people == "largest":
        b = det.boxes_xyxy.astype(np.float64)
        area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        idx = np.sort(np.argsort(-area, kind="stable")[: max_people or 1])
    else:
        idx = np.arange(min(n, max_people or n))
    if idx.size == n:
        return det
    return Detections(det.boxes_xyxy[idx], det.scores[idx])


def _process_chunk(
    chunk: np.ndarray,
    detector: YoloxDetector,
    estimator: DWPoseEstimator,
    options: DetectOptions,
) -> list[PoseFrame]:
    h, w = chunk.shape[1:3]
    dets = [
        select_people(d, options.people, options.max_people)
        for d in detector.detect(chunk, options.thresholds)
    ]
    boxes = [d.boxes_xyxy for d in dets]
    if options.fallback_full_image:
        full = np.array([[0, 0, w, h]], np.float32)
        boxes = [b if b.shape[0] else full for b in boxes]
    poses = estimator.estimate_many(chunk, boxes)
    return [
        PoseFrame(
            detections=d,
            pose2d=wholebody_to_pose2d(k, s, (h, w), options.keypoint_threshold),
        )
        for d, (k, s) in zip(dets, poses, strict=True)
    ]


def _count_frames(frames: object) -> int:
    if isinstance(frames, np.ndarray):
        return int(_frames_view(frames).shape[0])
    if isinstance(frames, list | tuple) and all(isinstance(f, np.ndarray) for f in frames):
        return sum(int(_frames_view(f).shape[0]) for f in frames)
    return 0


def detect_poses(
    frames: np.ndarray | Iterable[np.ndarray],
    detector: YoloxDetector,
    estimator: DWPoseEstimator,
    options: DetectOptions = DetectOptions(),
    progress: ProgressFn | None = None,
    check_cancel: CancelFn | None = None,
) -> list[PoseFrame]:
    """YOLOX + DWPose on every frame.

    Args:
        frames: (T, H, W, 3) uint8 RGB, or an iterable of such chunks (e.g.
            ``media.video.iter_video_chunks``). Grayscale (…, H, W) / (…, H, W, 1) is converted
            to RGB and RGBA loses its alpha (noted in the log); other dtypes are an error.
        detector: a :class:`YoloxDetector`.
        estimator: a :class:`DWPoseEstimator`.
        options: thresholds, people selection, fallback, chunking.
        progress: ``progress(done_frames, total_frames)`` (total 0 when unknown).
        check_cancel: called between chunks; raises to stop.

    Returns:
        One :class:`PoseFrame` per frame with ``detections`` (pixels, descending score) and
        ``pose2d`` (same people, same order; normalised by the frame's W, H); ``pose3d`` None.
        A frame with nobody has empty Detections and an empty Pose2D (unless
        ``fallback_full_image``). An empty input gives [].

    Raises:
        InputError: frames of the wrong dtype/shape.
        ModelFormatError: a model returned tensors of the wrong shape.
    """
    rep = Reporter(progress, check_cancel)
    rep.start(_count_frames(frames))
    out: list[PoseFrame] = []
    for chunk in iter_frame_chunks(frames, int(options.chunk_size)):
        rep.cancel_point()
        if chunk.shape[0] == 0:
            continue
        out.extend(_process_chunk(chunk, detector, estimator, options))
        rep.step(chunk.shape[0])
    return out
