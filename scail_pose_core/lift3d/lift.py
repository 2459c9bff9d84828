"""3D lifting with NLF: masked per-box inputs, batched frame-major, streamed (reference_spec.md §4).

``lift_to_3d`` reproduces the reference: for every (frame, box) a full-size image black outside
the expanded box, queued frame-major/box-minor into uint8 batches of ``batch_size`` (64),
``detect_smpl_batched`` with NLF's defaults (FOV 55), detection [0] of each image, its
``joints3d_nonparam`` (SMPL-24, camera-space mm). Where NLF finds nobody the slot is marked
``present=False`` with zero joints (the reference writes zeros). Frames stream through: only
one chunk of frames, one batch buffer and the small per-box results are held at a time.

``lift_full_frames`` runs NLF's own detector on whole frames and keeps every detection.
``lift_images`` runs detection [0] on arbitrary pre-masked images (e.g. SAM2 character masks,
reference_spec.md §7.5).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ModelFormatError
from ..runtime import CancelFn, ProgressFn, Reporter
from ..skeletons import smpl
from ..types import Detections, Pose3D
from .masking import MARGIN_X, MARGIN_Y, BatchQueue, expanded_box_px, iter_frames, write_masked

LOGGER = logging.getLogger("scail_pose")

#: NLF's own defaults of ``detect_smpl_batched`` (reference_spec.md §4.2); only options that
#: differ from these are passed to the model, so any NLF build with this interface works.
NLF_DEFAULTS: dict[str, Any] = {
    "default_fov_degrees": 55.0,
    "detector_threshold": 0.3,
    "detector_nms_iou_threshold": 0.7,
    "max_detections": 150,
    "num_aug": 1,
    "internal_batch_size": 64,
    "antialias_factor": 1,
    "suppress_implausible_poses": True,
}


@dataclass(frozen=True)
class LiftOptions:
    """Options of :func:`lift_to_3d` / :func:`lift_full_frames`; defaults = the reference.

    Attributes:
        batch_size: images per model call (reference 64); lower it when the GPU runs out of
            memory. Results do not depend on it.
        margin_x, margin_y: box expansion as a fraction of W (each side) and H (top/bottom).
        default_fov_degrees: FOV of NLF's camera for the full image (reference 55°).
        detector_threshold, detector_nms_iou_threshold, max_detections, num_aug,
        internal_batch_size, antialias_factor, suppress_implausible_poses: passed to
            ``detect_smpl_batched`` (reference_spec.md §4.2) when they differ from NLF's default.
    """

    batch_size: int = 64
    margin_x: float = MARGIN_X
    margin_y: float = MARGIN_Y
    default_fov_degrees: float = 55.0
    detector_threshold: float = 0.3
    detector_nms_iou_threshold: float = 0.7
    max_detections: int = 150
    num_aug: int = 1
    internal_batch_size: int = 64
    antialias_factor: int = 1
    suppress_implausible_poses: bool = True

    def __post_init__(self) -> None:
        if int(self.batch_size) < 1:
            raise InputError(f"LiftOptions.batch_size must be >= 1, got {self.batch_size}")
        for name in ("margin_x", "margin_y"):
            v = float(getattr(self, name))
            if not (0.0 <= v < 1.0):
                raise InputError(f"LiftOptions.{name} must be in [0, 1), got {v}")
        if not (0.0 < float(self.default_fov_degrees) < 180.0):
            raise InputError(
                f"LiftOptions.default_fov_degrees must be in (0, 180), got "
                f"{self.default_fov_degrees}"
            )

    def model_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``detect_smpl_batched``: only those differing from NLF's."""
        out: dict[str, Any] = {}
        for key, default in NLF_DEFAULTS.items():
            value = getattr(self, key)
            if value != default:
                out[key] = type(default)(value)
        return out


def _check_model(model: Any) -> None:
    if not callable(getattr(model, "detect_smpl_batched", None)):
        raise ModelFormatError(
            f"expected an NLF model (from load_nlf) with detect_smpl_batched, got {type(model)}"
        )


def _run_batch(model: Any, images_nhwc: np.ndarray, options: LiftOptions) -> list[np.ndarray]:
    """One model call on a uint8 (n, H, W, 3) batch → n arrays (k, 24, 3) float32 mm."""
    import torch

    n = int(images_nhwc.shape[0])
    device = getattr(model, "device", "cpu")
    batch = torch.from_numpy(images_nhwc).to(device).permute(0, 3, 1, 2)  # uint8 (n, 3, H, W)
    pred = model.detect_smpl_batched(batch, **options.model_kwargs())
    if not isinstance(pred, dict) or "joints3d_nonparam" not in pred:
        keys = sorted(pred) if isinstance(pred, dict) else type(pred).__name__
        raise ModelFormatError(
            f"NLF's detect_smpl_batched returned {keys}; expected a dict with "
            "'joints3d_nonparam' (is this an NLF multi-person TorchScript?)"
        )
    joints = pred["joints3d_nonparam"]
    if len(joints) != n:
        raise ModelFormatError(
            f"NLF returned {len(joints)} joints3d_nonparam entries for a batch of {n} images"
        )
    out: list[np.ndarray] = []
    for j in joints:
        a = j.detach().to("cpu").numpy().astype(np.float32, copy=False)
        if a.ndim != 3 or a.shape[1:] != (smpl.NUM_JOINTS, 3):
            raise ModelFormatError(
                f"NLF joints3d_nonparam entry has shape {a.shape}; expected (k, 24, 3) — use "
                "model_name='smpl'"
            )
        out.append(a)
    return out


def _as_detections(detections: Sequence[Detections]) -> list[Detections]:
    dets = list(detections)
    for i, d in enumerate(dets):
        if not isinstance(d, Detections):
            raise InputError(f"detections[{i}]: expected Detections, got {type(d).__name__}")
    return dets


def lift_to_3d(
    frames: np.ndarray | Iterable[np.ndarray],
    detections: Sequence[Detections],
    model: Any,
    options: LiftOptions = LiftOptions(),  # noqa: B008 - frozen dataclass
    progress: ProgressFn | None = None,
    check_cancel: CancelFn | None = None,
) -> list[Pose3D]:
    """Lift every detected box of every frame to SMPL-24 3D with NLF (reference_spec.md §4.1).

    Args:
        frames: uint8 RGB frames (T, H, W, 3), or an iterable of such chunks (streamed).
        detections: one :class:`Detections` per frame (pixel xyxy boxes of that frame).
        model: an :class:`~scail_pose_core.lift3d.nlf.NLFModel` (from ``load_nlf``).
        options: :class:`LiftOptions`.
        progress: ``progress(done_frames, total_frames)``.
        check_cancel: called between batches; raises to stop.

    Returns:
        One :class:`Pose3D` per frame with one person slot per box, in box order: joints
        (P, 24, 3) float32 camera mm for NLF's detection [0] in that box's masked image;
        ``present`` False and zeros where NLF found nobody. A frame without boxes gives
        ``Pose3D.empty()``.

    Raises:
        InputError: no frames, frames/detections count mismatch, frames of different sizes,
            non-uint8 frames.
        ModelFormatError: the model does not behave like NLF.
    """
    _check_model(model)
    dets = _as_detections(detections)
    if isinstance(frames, np.ndarray) and frames.ndim == 4 and frames.shape[0] != len(dets):
        raise InputError(
            f"lift_to_3d: {frames.shape[0]} frames but {len(dets)} Detections; pass one "
            "Detections per frame"
        )
    reporter = Reporter(progress, check_cancel).start(len(dets))
    results: list[list[np.ndarray | None]] = [[None] * len(d) for d in dets]
    queue: BatchQueue | None = None
    frames_done = 0

    def flush() -> None:
        nonlocal frames_done
        assert queue is not None
        images, keys = queue.take()
        for (fi, bi), joints in zip(keys, _run_batch(model, images, options), strict=True):
            results[fi][bi] = joints[0] if joints.shape[0] > 0 else None
        # frames whose last box is in this batch are finished
        fi, bi = keys[-1]
        finished = fi + 1 if bi == len(dets[fi]) - 1 else fi
        if finished > frames_done:
            reporter.step(finished - frames_done)
            frames_done = finished

    count = 0
    for fi, frame in enumerate(iter_frames(frames)):
        count = fi + 1
        if fi >= len(dets):
            raise InputError(
                f"lift_to_3d: more frames than Detections ({len(dets)}); pass one Detections "
                "per frame"
            )
        if queue is None:
            size_hw = (int(frame.shape[0]), int(frame.shape[1]))
            total_boxes = sum(len(d) for d in dets)
            queue = BatchQueue(max(1, min(options.batch_size, total_boxes)), size_hw)
        for bi, box in enumerate(dets[fi].boxes_xyxy):
            bounds = expanded_box_px(box, size_hw, options.margin_x, options.margin_y)
            write_masked(frame, bounds, queue.slot((fi, bi)))
            if queue.full:
                flush()
        if len(dets[fi]) == 0 and len(queue) == 0 and fi + 1 > frames_done:
            reporter.step(fi + 1 - frames_done)
            frames_done = fi + 1
    if count == 0:
        raise InputError("lift_to_3d: got zero frames; pass at least one (T, H, W, 3) frame")
    if count != len(dets):
        raise InputError(
            f"lift_to_3d: {count} frames but {len(dets)} Detections; pass one Detections per frame"
        )
    if queue is not None and len(queue) > 0:
        flush()
    if frames_done < len(dets):
        reporter.step(len(dets) - frames_done)

    out: list[Pose3D] = []
    for per_box in results:
        if not per_box:
            out.append(Pose3D.empty())
            continue
        joints = np.zeros((len(per_box), smpl.NUM_JOINTS, 3), np.float32)
        present = np.zeros((len(per_box),), bool)
        for b, j in enumerate(per_box):
            if j is not None:
                joints[b] = j
                present[b] = True
        out.append(Pose3D(joints, present))
    n_missing = sum(int((~p.present).sum()) for p in out)
    if n_missing:
        LOGGER.info("NLF found nobody in %d of the boxes (marked missing, zero joints)", n_missing)
    return out


def _lift_whole_images(
    frames: np.ndarray | Iterable[np.ndarray],
    model: Any,
    options: LiftOptions,
    reporter: Reporter,
    collect: Callable[[np.ndarray], Any],
    name: str,
) -> list[Any]:
    _check_model(model)
    out: list[Any] = []
    queue: BatchQueue | None = None

    def flush() -> None:
        assert queue is not None
        images, _ = queue.take()
        res = _run_batch(model, images, options)
        out.extend(collect(j) for j in res)
        reporter.step(len(res))

    for i, frame in enumerate(iter_frames(frames)):
        if queue is None:
            cap = options.batch_size
            if isinstance(frames, np.ndarray) and frames.ndim == 4:
                cap = max(1, min(cap, int(frames.shape[0])))
            queue = BatchQueue(cap, (int(frame.shape[0]), int(frame.shape[1])))
        queue.slot(i)[...] = frame
        if queue.full:
            flush()
    if queue is None:
        raise InputError(f"{name}: got zero frames; pass at least one (T, H, W, 3) frame")
    if len(queue) > 0:
        flush()
    return out


def lift_full_frames(
    frames: np.ndarray | Iterable[np.ndarray],
    model: Any,
    options: LiftOptions = LiftOptions(),  # noqa: B008 - frozen dataclass
    progress: ProgressFn | None = None,
    check_cancel: CancelFn | None = None,
) -> list[Pose3D]:
    """Run NLF with its own person detector on whole frames (no 2D boxes, no masking).

    Returns:
        One :class:`Pose3D` per frame holding **every** NLF detection in NLF's order
        (present True, track ids −1); ``Pose3D.empty()`` where NLF found nobody.
    """
    total = int(frames.shape[0]) if isinstance(frames, np.ndarray) and frames.ndim == 4 else 0
    reporter = Reporter(progress, check_cancel).start(total)

    def collect(j: np.ndarray) -> Pose3D:
        return Pose3D(j, np.ones((j.shape[0],), bool)) if j.shape[0] else Pose3D.empty()

    return _lift_whole_images(frames, model, options, reporter, collect, "lift_full_frames")


def lift_images(
    images: np.ndarray | Iterable[np.ndarray],
    model: Any,
    options: LiftOptions = LiftOptions(),  # noqa: B008 - frozen dataclass
    progress: ProgressFn | None = None,
    check_cancel: CancelFn | None = None,
) -> list[np.ndarray | None]:
    """Detection [0] of each already-masked full-size image (reference_spec.md §7.5).

    Args:
        images: uint8 (N, H, W, 3) or an iterable of chunks, e.g. one character's masked frames.

    Returns:
        Per image the (24, 3) float32 camera-mm joints of NLF's detection [0], or None.
    """
    total = int(images.shape[0]) if isinstance(images, np.ndarray) and images.ndim == 4 else 0
    reporter = Reporter(progress, check_cancel).start(total)

    def collect(j: np.ndarray) -> np.ndarray | None:
        return j[0].copy() if j.shape[0] else None

    return _lift_whole_images(images, model, options, reporter, collect, "lift_images")
