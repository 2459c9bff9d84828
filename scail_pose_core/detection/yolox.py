"""YOLOX person detector on onnxruntime (reference_spec.md §2). Entry point: :class:`YoloxDetector`.

Pipeline per frame: :func:`letterbox` (pure) → runner → :func:`decode_person_boxes` (pure).
Frames come in as RGB uint8; the model sees raw 0–255 **BGR**, letterboxed top-left into the
model input with pad 114 and no normalisation. Boxes come back in input-frame pixels (xyxy, not
clipped), highest score first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError, ModelFormatError
from ..onnx_session import ProviderSpec, Runner, TensorInfo, load_onnx_model
from ..types import Detections
from .nms import nms

LOGGER = logging.getLogger("scail_pose")

DEFAULT_INPUT_HW: tuple[int, int] = (640, 640)
STRIDES: tuple[int, ...] = (8, 16, 32)
PAD_VALUE = 114


@dataclass(frozen=True)
class YoloxThresholds:
    """The three YOLOX thresholds and the class kept (reference values as defaults).

    Fields:
        score_threshold: final person threshold, score > this (0.3).
        nms_iou_threshold: suppress when IoU > this (0.45).
        nms_score_threshold: NMS candidates need score > this (0.1).
        class_id: COCO class kept (0 = person).
    """

    score_threshold: float = 0.3
    nms_iou_threshold: float = 0.45
    nms_score_threshold: float = 0.1
    class_id: int = 0


def letterbox_ratio(frame_hw: tuple[int, int], input_hw: tuple[int, int] = DEFAULT_INPUT_HW):
    """r = min(in_h/H, in_w/W) and the resized (w, h) = (int(W·r), int(H·r)) (at least 1 px)."""
    h, w = frame_hw
    r = min(input_hw[0] / h, input_hw[1] / w)
    return r, (max(1, int(w * r)), max(1, int(h * r)))


def letterbox(
    frame_rgb: np.ndarray,
    input_hw: tuple[int, int] = DEFAULT_INPUT_HW,
    out: np.ndarray | None = None,
    fill_pad: bool = True,
    scratch: dict | None = None,
) -> tuple[np.ndarray, float]:
    """YOLOX preprocessing of one frame.

    Args:
        frame_rgb: (H, W, 3) uint8 RGB (a 4th channel, e.g. RGBA, is ignored).
        input_hw: model input (h, w).
        out: optional (3, h, w) float32 buffer to fill (used for batching).
        fill_pad: write the 114 padding (False when ``out`` already holds it for this frame
            size: a reused buffer).
        scratch: optional dict the caller keeps between calls; the uint8 intermediates are
            kept in it (keyed by size) instead of being allocated per frame. Its contents are
            private to this function.

    Returns:
        ((3, h, w) float32 BGR 0–255, pad 114 right/bottom), ratio r (input px = frame px · r).
    """
    r, (nw, nh) = letterbox_ratio(frame_rgb.shape[:2], input_hw)
    if out is None:
        out = np.empty((3, input_hw[0], input_hw[1]), np.float32)
    nc = frame_rgb.shape[2]
    work = None
    if scratch is not None:
        key = ("letterbox", nh, nw, nc)
        work = scratch.get(key)
        if work is None:
            work = scratch[key] = (
                np.empty((nh, nw, nc), np.uint8),
                tuple(np.empty((nh, nw), np.uint8) for _ in range(nc)),
            )
    # Resizing is per channel, so resizing RGB and swapping afterwards equals the reference's
    # BGR conversion of the full frame followed by the resize (and touches fewer pixels).
    # OpenCV fills the given dst/mv buffers in place when their size and type fit (they do);
    # the returned arrays are used either way.
    resized = cv2.resize(
        frame_rgb, (nw, nh), dst=None if work is None else work[0], interpolation=cv2.INTER_LINEAR
    )
    if fill_pad:
        out[:, nh:, :] = PAD_VALUE
        out[:, :nh, nw:] = PAD_VALUE
    # Contiguous planes convert to float32 much faster than stride-3 channel views.
    planes = cv2.split(resized) if work is None else cv2.split(resized, mv=work[1])
    for c in range(3):
        np.copyto(out[c, :nh, :nw], planes[2 - c])  # exact: every uint8 is a float32
    return out, r


@lru_cache(maxsize=8)
def anchor_grid(input_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(A, 2) float64 grid offsets (gx, gy) and (A, 1) float64 strides, levels 8/16/32 concatenated,
    row-major within a level (index = gy·grid_w + gx). A = 8400 for 640×640."""
    grids, strides = [], []
    for s in STRIDES:
        gh, gw = input_hw[0] // s, input_hw[1] // s
        gx, gy = np.meshgrid(np.arange(gw), np.arange(gh))
        grids.append(np.stack([gx, gy], axis=-1).reshape(-1, 2))
        strides.append(np.full((gh * gw, 1), s))
    g = np.concatenate(grids).astype(np.float64)
    st = np.concatenate(strides).astype(np.float64)
    g.setflags(write=False)
    st.setflags(write=False)
    return g, st


def decode_boxes(raw: np.ndarray, rows: np.ndarray, input_hw: tuple[int, int], ratio: float):
    """Grid/stride decode of the rows ``rows`` of ``raw`` (A, 5+C) → (n, 4) float32 xyxy / ratio.

    cx = (o0 + gx)·s, cy = (o1 + gy)·s, w = exp(o2)·s, h = exp(o3)·s. Arithmetic follows the
    reference's dtypes (float64 grid maths stored back to float32, exp in float32).
    """
    grid, stride = anchor_grid(tuple(input_hw))
    o = raw[rows, :4].astype(np.float32)
    s = stride[rows]
    xy = ((o[:, :2] + grid[rows]) * s).astype(np.float32)
    wh = (np.exp(o[:, 2:4]) * s).astype(np.float32)
    half = wh / np.float32(2.0)
    boxes = np.concatenate([xy - half, xy + half], axis=1)
    boxes /= ratio  # float32 / python float stays float32, as in the reference
    return boxes


def decode_person_boxes(
    raw: np.ndarray,
    ratio: float,
    input_hw: tuple[int, int] = DEFAULT_INPUT_HW,
    thresholds: YoloxThresholds = YoloxThresholds(),
) -> Detections:
    """YOLOX postprocessing of one image: decode, class-aware NMS, person filter.

    Only the kept class is decoded: NMS is per class, so the other 79 classes cannot change its
    result, and boxes with NMS-candidate score ≤ ``score_threshold`` can only suppress boxes with
    lower scores, which the final threshold drops anyway. The output equals the reference's.

    Args:
        raw: (A, 5+C) float32 model output for one image (A = 8400 for 640×640).
        ratio: letterbox ratio r from :func:`letterbox`.
        input_hw: model input (h, w) (decides the anchor grid).
        thresholds: the YOLOX thresholds.

    Returns:
        :class:`Detections` in input-frame pixels, descending score.

    Raises:
        ModelFormatError: ``raw`` does not have the (A, 5+C) shape of this input size.
    """
    grid, _ = anchor_grid(tuple(input_hw))
    c = thresholds.class_id
    if raw.ndim != 2 or raw.shape[0] != grid.shape[0] or raw.shape[1] < 6 + c:
        raise ModelFormatError(
            f"YOLOX output has shape {raw.shape} per image; expected ({grid.shape[0]}, 85) "
            f"(anchors of a {input_hw[0]}x{input_hw[1]} input, strides {STRIDES}; 4 box values, "
            "objectness, class scores). Is this a YOLOX export with decode_in_inference=False?"
        )
    scores = raw[:, 4] * raw[:, 5 + c]
    rows = np.flatnonzero(scores > thresholds.nms_score_threshold)
    if rows.size == 0:
        return Detections.empty()
    boxes = decode_boxes(raw, rows, input_hw, ratio)
    s = scores[rows]
    keep = nms(boxes, s, thresholds.nms_iou_threshold)
    boxes, s = boxes[keep], s[keep]
    final = s > thresholds.score_threshold
    return Detections(boxes[final], s[final])


def check_yolox_io(
    inputs: Sequence[TensorInfo], outputs: Sequence[TensorInfo], where: str = "YOLOX model"
) -> tuple[tuple[int, int], bool]:
    """Validate a YOLOX model's declared tensors; return (input (h, w), batch_is_dynamic).

    Raises:
        ModelFormatError: no NCHW 3-channel input, or an output that is not (B, A, 5+C).
    """
    if not inputs or len(inputs[0].shape) != 4 or inputs[0].dim(1) not in (3, None):
        got = [(i.name, i.shape) for i in inputs]
        raise ModelFormatError(
            f"{where}: expected one input of shape [batch, 3, H, W], got {got}. "
            "Is this the YOLOX detector (yolox_l.onnx)?"
        )
    inp = inputs[0]
    h, w = inp.dim(2), inp.dim(3)
    if h is None or w is None:
        LOGGER.warning("%s: input size is dynamic %s; using %s", where, inp.shape, DEFAULT_INPUT_HW)
        h, w = DEFAULT_INPUT_HW
    if h % 32 or w % 32:
        raise ModelFormatError(f"{where}: input size {h}x{w} is not a multiple of 32")
    anchors = anchor_grid((h, w))[0].shape[0]
    out = outputs[0] if outputs else None
    ok = out is not None and len(out.shape) == 3
    if ok:
        a, k = out.dim(1), out.dim(2)
        ok = (a is None or a == anchors) and (k is None or k >= 6)
    if not ok:
        got = [(o.name, o.shape) for o in outputs]
        raise ModelFormatError(
            f"{where}: expected output [batch, {anchors}, 85] for a {h}x{w} input, got {got}. "
            "Is this the YOLOX detector exported without decode_in_inference?"
        )
    return (h, w), inp.dim(0) is None


class YoloxDetector:
    """YOLOX person detector.

    Args:
        runner: callable (B, 3, h, w) float32 → [(B, A, 5+C) float32, ...].
        input_size_hw: model input (h, w), read from the session by :meth:`from_path`.
        batch_dynamic: the runner accepts B > 1 (frames are then batched).
        max_batch: frames per run when batching (bounds memory: 8 × 4.9 MB at 640×640).

    :meth:`detect` reuses one input buffer between calls, so one detector must not be used by
    two threads at once.
    """

    def __init__(
        self,
        runner: Runner,
        input_size_hw: tuple[int, int] = DEFAULT_INPUT_HW,
        batch_dynamic: bool = False,
        max_batch: int = 8,
    ) -> None:
        self.runner = runner
        self.input_size_hw = (int(input_size_hw[0]), int(input_size_hw[1]))
        self.batch_dynamic = bool(batch_dynamic)
        self.max_batch = max(1, int(max_batch)) if batch_dynamic else 1
        self._buffer: np.ndarray | None = None
        self._buffer_key: tuple[int, int, int] | None = None
        self._scratch: dict = {}

    @classmethod
    def from_path(
        cls, path: str | Path, providers: Sequence[ProviderSpec] | None = None
    ) -> YoloxDetector:
        """Load ``yolox_l.onnx`` (or any YOLOX export without in-graph decode).

        Raises:
            MissingWeightsError, ModelFormatError, OptionalDependencyError: see
            :func:`~scail_pose_core.onnx_session.load_onnx_model`; ModelFormatError also for
            tensors of the wrong shape.
        """
        model = load_onnx_model(path, providers, role="YOLOX detector")
        hw, dyn = check_yolox_io(model.inputs, model.outputs, f"YOLOX model {Path(path).name}")
        det = cls(model, hw, dyn)
        det.model = model
        return det

    def preprocess(
        self, frames_rgb: np.ndarray, reuse_buffer: bool = False
    ) -> tuple[np.ndarray, list[float]]:
        """(B, H, W, 3) uint8 RGB → ((B, 3, h, w) float32 BGR letterboxed, ratios).

        ``reuse_buffer``: fill the detector's own buffer (kept between calls, so its padding is
        written once per frame size) instead of a new array; the result is then only valid until
        the next call. The uint8 intermediates are always kept between calls (not thread-safe).
        """
        b, fh, fw = frames_rgb.shape[:3]
        if reuse_buffer:
            key = (b, fh, fw)
            if self._buffer_key != key:
                self._buffer = np.empty((b, 3, *self.input_size_hw), np.float32)
                self._buffer_key, fill = key, True
            else:
                fill = False
            buf = self._buffer
        else:
            buf, fill = np.empty((b, 3, *self.input_size_hw), np.float32), True
        if len(self._scratch) > 8:  # many frame sizes seen: drop the old intermediates
            self._scratch.clear()
        ratios = [
            letterbox(frames_rgb[i], self.input_size_hw, buf[i], fill, self._scratch)[1]
            for i in range(b)
        ]
        return buf, ratios

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """(B, 3, h, w) float32 → (B, A, 5+C) float32 raw output (one run per image if static)."""
        if self.batch_dynamic:
            return self._run(batch)
        return np.concatenate([self._run(batch[i : i + 1]) for i in range(batch.shape[0])])

    def _run(self, x: np.ndarray) -> np.ndarray:
        out = np.asarray(self.runner(x)[0])
        if out.ndim != 3 or out.shape[0] != x.shape[0]:
            raise ModelFormatError(
                f"YOLOX runner returned shape {out.shape} for a batch of {x.shape[0]}; "
                "expected (batch, anchors, 85)"
            )
        return out

    def postprocess(
        self, raw: np.ndarray, ratios: Sequence[float], thresholds: YoloxThresholds
    ) -> list[Detections]:
        """(B, A, 5+C) raw → one :class:`Detections` per image (input-frame pixels)."""
        return [
            decode_person_boxes(raw[i], ratios[i], self.input_size_hw, thresholds)
            for i in range(raw.shape[0])
        ]

    def detect(
        self, frames_rgb: np.ndarray, thresholds: YoloxThresholds = YoloxThresholds()
    ) -> list[Detections]:
        """Detect people in (T, H, W, 3) uint8 RGB frames; one :class:`Detections` per frame."""
        if frames_rgb.ndim != 4 or frames_rgb.shape[-1] != 3 or frames_rgb.dtype != np.uint8:
            raise InputError(
                f"YoloxDetector.detect: expected (T, H, W, 3) uint8 RGB, got "
                f"{frames_rgb.shape} {frames_rgb.dtype}"
            )
        out: list[Detections] = []
        for i in range(0, frames_rgb.shape[0], self.max_batch):
            batch, ratios = self.preprocess(frames_rgb[i : i + self.max_batch], reuse_buffer=True)
            out.extend(self.postprocess(self.infer(batch), ratios, thresholds))
        return out

    __call__ = detect
