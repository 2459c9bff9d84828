"""The reference's masked NLF inputs and their frame-major batching (reference_spec.md §4.1).

For every (frame, box) pair the model sees a full-size image that is black everywhere except
the box expanded by 2.5 % of the width left/right and 5 % of the height top/bottom:

    x1p = max(0, floor(x1·W − 0.025·W)),  y1p = max(0, floor(y1·H − 0.05·H)),
    x2p = min(W, ceil(x2·W + 0.025·W)),   y2p = min(H, ceil(y2·H + 0.05·H))

with x1..y2 normalised (pixel box / W or H) and [x1p, x2p) × [y1p, y2p) half-open slices.
Images are queued frame-major, box-minor into uint8 batches; uint8 is kept until the model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from ..errors import InputError

MARGIN_X = 0.025
MARGIN_Y = 0.05


def expanded_box(
    box_norm: Sequence[float],
    size_hw: tuple[int, int],
    margin_x: float = MARGIN_X,
    margin_y: float = MARGIN_Y,
) -> tuple[int, int, int, int]:
    """Pixel slice bounds (x1p, y1p, x2p, y2p), half-open, of a normalised xyxy box (§4.1).

    The result may be empty (x2p ≤ x1p or y2p ≤ y1p) for a box lying outside the frame.
    """
    h, w = size_hw
    x1, y1, x2, y2 = (float(v) for v in box_norm)
    x1p = max(0, math.floor(x1 * w - margin_x * w))
    y1p = max(0, math.floor(y1 * h - margin_y * h))
    x2p = min(w, math.ceil(x2 * w + margin_x * w))
    y2p = min(h, math.ceil(y2 * h + margin_y * h))
    return int(x1p), int(y1p), int(x2p), int(y2p)


def expanded_box_px(
    box_xyxy: Sequence[float],
    size_hw: tuple[int, int],
    margin_x: float = MARGIN_X,
    margin_y: float = MARGIN_Y,
) -> tuple[int, int, int, int]:
    """As :func:`expanded_box` for a pixel xyxy box (normalised by W, H first, as the reference)."""
    h, w = size_hw
    x1, y1, x2, y2 = (float(v) for v in box_xyxy)
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        raise InputError(f"box {tuple(box_xyxy)} has non-finite coordinates")
    return expanded_box((x1 / w, y1 / h, x2 / w, y2 / h), size_hw, margin_x, margin_y)


def write_masked(
    frame: np.ndarray, bounds: tuple[int, int, int, int], out: np.ndarray
) -> np.ndarray:
    """Fill ``out`` (H, W, 3) uint8 with ``frame`` inside ``bounds`` and 0 elsewhere."""
    x1, y1, x2, y2 = bounds
    out[...] = 0
    if x2 > x1 and y2 > y1:
        out[y1:y2, x1:x2] = frame[y1:y2, x1:x2]
    return out


def masked_image(
    frame: np.ndarray,
    box_xyxy: Sequence[float],
    margin_x: float = MARGIN_X,
    margin_y: float = MARGIN_Y,
) -> np.ndarray:
    """A new (H, W, 3) uint8 image: ``frame`` inside the expanded pixel box, black elsewhere."""
    h, w = frame.shape[:2]
    bounds = expanded_box_px(box_xyxy, (h, w), margin_x, margin_y)
    return write_masked(frame, bounds, np.empty_like(frame))


def iter_frames(frames: np.ndarray | Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Yield single frames (H, W, 3) uint8 from an array (T, H, W, 3) or an iterable of chunks.

    Every frame must be uint8 RGB of the same size as the first one.

    Raises:
        InputError: wrong dtype/shape, or a frame whose size differs from frame 0 (the message
            names the frame index and both sizes).
    """
    chunks: Iterable[np.ndarray] = [frames] if isinstance(frames, np.ndarray) else frames
    size: tuple[int, int] | None = None
    index = 0
    for chunk in chunks:
        arr = np.asarray(chunk)
        if arr.ndim == 3 and arr.shape[-1] == 3 and not isinstance(frames, np.ndarray):
            arr = arr[None]
        if arr.ndim != 4 or arr.shape[-1] != 3:
            raise InputError(
                f"frames {index}..: expected uint8 RGB frames (T, H, W, 3), got shape {arr.shape}"
            )
        if arr.dtype != np.uint8:
            raise InputError(
                f"frames {index}..: expected dtype uint8 (0..255 RGB), got {arr.dtype}; convert "
                "float images with (x * 255).round().clip(0, 255).astype(np.uint8)"
            )
        hw = (int(arr.shape[1]), int(arr.shape[2]))
        if size is None:
            size = hw
        elif hw != size:
            raise InputError(
                f"frame {index} has size {hw[0]}x{hw[1]} (HxW) but frame 0 has "
                f"{size[0]}x{size[1]}; all frames of one call must share one size (resize/crop "
                "them to the target size first)"
            )
        for t in range(arr.shape[0]):
            yield arr[t]
            index += 1


class BatchQueue:
    """A reusable uint8 buffer of ``batch_size`` images (B, H, W, 3) filled slot by slot.

    ``slot()`` returns the next free image view to write into and records its key; when the
    buffer is full, :meth:`full` is True and :meth:`take` returns (images view, keys) and resets.
    The returned view is only valid until the next ``slot()``: consume it first.
    """

    def __init__(self, batch_size: int, size_hw: tuple[int, int]) -> None:
        if int(batch_size) < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size)
        self.buffer = np.zeros((self.batch_size, size_hw[0], size_hw[1], 3), np.uint8)
        self.keys: list[object] = []

    def slot(self, key: object) -> np.ndarray:
        i = len(self.keys)
        self.keys.append(key)
        return self.buffer[i]

    @property
    def full(self) -> bool:
        return len(self.keys) >= self.batch_size

    def __len__(self) -> int:
        return len(self.keys)

    def take(self) -> tuple[np.ndarray, list[object]]:
        n = len(self.keys)
        keys, self.keys = self.keys, []
        return self.buffer[:n], keys
