"""SimCC decoding of DWPose outputs and back-projection to the frame (reference_spec.md §3.3).

Entry points: :func:`decode_simcc` (argmax per keypoint, pure) and :func:`to_image_coords`.
"""

from __future__ import annotations

import numpy as np

#: SimCC bins per input pixel.
SPLIT_RATIO = 2.0


def decode_simcc(
    simcc_x: np.ndarray, simcc_y: np.ndarray, split_ratio: float = SPLIT_RATIO
) -> tuple[np.ndarray, np.ndarray]:
    """Argmax decode (first maximum on ties; no sub-bin refinement).

    score = min(max(simcc_x), max(simcc_y)); where score ≤ 0 the bin location is set to −1
    before dividing by ``split_ratio`` (so it becomes −0.5 input px, as in the reference).

    Args:
        simcc_x: (N, K, Wx) float, Wx = input_w · split_ratio.
        simcc_y: (N, K, Wy) float, Wy = input_h · split_ratio.
        split_ratio: bins per pixel (2.0).

    Returns:
        locations (N, K, 2) float32 in model-input pixels, scores (N, K) float32.
    """
    x_bin = np.argmax(simcc_x, axis=2)
    y_bin = np.argmax(simcc_y, axis=2)
    locs = np.stack([x_bin, y_bin], axis=-1).astype(np.float32)
    # The maxima are the values at the argmax bins: one pass over the outputs instead of two.
    max_x = np.take_along_axis(simcc_x, x_bin[..., None], axis=2)[..., 0]
    max_y = np.take_along_axis(simcc_y, y_bin[..., None], axis=2)[..., 0]
    scores = np.minimum(max_x, max_y).astype(np.float32)
    locs[scores <= 0.0] = -1.0
    locs /= np.float32(split_ratio)
    return locs, scores


def to_image_coords(
    locs_input: np.ndarray,
    centers: np.ndarray,
    scales: np.ndarray,
    input_wh: tuple[int, int],
) -> np.ndarray:
    """Model-input pixels → frame pixels: kp / (w, h) · scale + center − scale / 2.

    Args:
        locs_input: (N, K, 2) pixels of the model input.
        centers: (N, 2) box centres (pixels). scales: (N, 2) aspect-fixed scales (pixels).
        input_wh: model input (w, h), e.g. (288, 384).

    Returns:
        (N, K, 2) float64 frame pixels.
    """
    wh = np.asarray(input_wh, np.float64)
    s = np.asarray(scales, np.float64)[:, None, :]
    c = np.asarray(centers, np.float64)[:, None, :]
    return np.asarray(locs_input, np.float64) / wh * s + c - s / 2.0
