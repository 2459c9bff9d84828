"""DWPose input crops: box → centre/scale, aspect fix, affine warp, normalisation (reference_spec.md
§3.1–§3.2). Entry point: :func:`crop_and_normalize`; the steps are separate pure functions.

Coordinates are pixels with OpenCV's convention (pixel (x, y) centred on integer coordinates).
"""

from __future__ import annotations

import cv2
import numpy as np

#: Box padding factor applied to width and height.
PADDING = 1.25
#: Per-channel mean/std, applied to channels in **BGR** order (channel 0 = B gets 123.675): the
#: "RGB" ImageNet constants applied to B, G, R, a DWPose convention the weights expect.
MEAN_BGR: tuple[float, float, float] = (123.675, 116.28, 103.53)
STD_BGR: tuple[float, float, float] = (58.395, 57.12, 57.375)


def _make_luts() -> np.ndarray:
    v = np.arange(256, dtype=np.float64)
    luts = np.stack([(v - m) / s for m, s in zip(MEAN_BGR, STD_BGR, strict=True)])
    return luts.astype(np.float32).reshape(3, 1, 256)


#: (3, 1, 256) float32: LUT[c][v] = (v − mean[c]) / std[c] computed in float64 (as the reference
#: does) and rounded to float32, so normalising through it is bit-identical to the reference.
NORM_LUTS = _make_luts()


def box_to_center_scale(
    boxes_xyxy: np.ndarray, padding: float = PADDING
) -> tuple[np.ndarray, np.ndarray]:
    """Box → centre ((x1+x2)/2, (y1+y2)/2) and padded scale ((x2−x1)·p, (y2−y1)·p).

    Args:
        boxes_xyxy: (N, 4) pixels.
        padding: scale factor (reference 1.25).

    Returns:
        centers (N, 2) float32, scales (N, 2) float32 (not aspect-fixed).
    """
    b = np.asarray(boxes_xyxy, np.float32).reshape(-1, 4)
    centers = (b[:, 0:2] + b[:, 2:4]) * np.float32(0.5)
    scales = (b[:, 2:4] - b[:, 0:2]) * np.float32(padding)
    return centers, scales


def fix_aspect(scales: np.ndarray, aspect_wh: float) -> np.ndarray:
    """Grow the short side so that w/h == ``aspect_wh`` (0.75 for a 288×384 input).

    If w > h·aspect: h = w/aspect, else w = h·aspect. (N, 2) → (N, 2) float32.
    """
    s = np.asarray(scales, np.float32).reshape(-1, 2)
    w, h = s[:, 0:1], s[:, 1:2]
    return np.where(w > h * aspect_wh, np.hstack([w, w / aspect_wh]), np.hstack([h * aspect_wh, h]))


def _third_point(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """b + (a − b) turned 90° (float32 arithmetic, as the reference)."""
    d = a - b
    return b + np.array([-d[1], d[0]], np.float32)


def warp_matrix(center: np.ndarray, scale: np.ndarray, out_wh: tuple[int, int]) -> np.ndarray:
    """The 2×3 affine mapping the box centre to the output centre, uniform factor out_w/scale_w.

    Built, like the reference, from three float32 point pairs (centre, centre shifted up by
    scale_w/2, and that offset turned 90°) with ``cv2.getAffineTransform``.

    Args:
        center: (2,) pixels. scale: (2,) aspect-fixed scale (only scale_w is used).
        out_wh: output (w, h), e.g. (288, 384).

    Returns:
        (2, 3) float64 matrix, image → crop.
    """
    out_w, out_h = out_wh
    c = np.asarray(center, np.float64)[:2]
    src = np.zeros((3, 2), np.float32)
    src[0] = c
    src[1] = c + np.array([0.0, float(scale[0]) * -0.5])
    src[2] = _third_point(src[0], src[1])
    dst = np.zeros((3, 2), np.float32)
    dst[0] = (out_w * 0.5, out_h * 0.5)
    dst[1] = np.array([out_w * 0.5, out_h * 0.5]) + np.array([0.0, out_w * -0.5])
    dst[2] = _third_point(dst[0], dst[1])
    return cv2.getAffineTransform(src, dst)


def warp_crop(
    image: np.ndarray,
    center: np.ndarray,
    scale: np.ndarray,
    out_wh: tuple[int, int],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Affine crop (bilinear, constant border 0) of ``image`` (H, W, C) uint8 → (h, w, C) uint8."""
    m = warp_matrix(center, scale, out_wh)
    return cv2.warpAffine(
        image, m, out_wh, dst=out, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )  # fmt: skip


def normalize_crop(
    crop_rgb: np.ndarray, out: np.ndarray | None = None, planes: tuple | None = None
) -> np.ndarray:
    """(h, w, 3 or 4) uint8 RGB(A) crop → (3, h, w) float32, BGR channel order, (v − mean)/std.

    Equal to the reference's BGR conversion followed by float64 normalisation, cast to float32.
    ``planes``: optional (h, w) uint8 buffers, one per channel of ``crop_rgb``, for the split.
    """
    h, w = crop_rgb.shape[:2]
    if out is None:
        out = np.empty((3, h, w), np.float32)
    split = cv2.split(crop_rgb) if planes is None else cv2.split(crop_rgb, mv=planes)
    for c in range(3):
        cv2.LUT(split[2 - c], NORM_LUTS[c], dst=out[c])
    return out


def _scratch_buffer(scratch: dict | None, key: tuple, shape: tuple[int, ...]) -> np.ndarray:
    if scratch is None:
        return np.empty(shape, np.uint8)
    buf = scratch.get(key)
    if buf is None:
        if len(scratch) > 16:  # many sizes seen: drop the old buffers
            scratch.clear()
        buf = scratch[key] = np.empty(shape, np.uint8)
    return buf


def crop_and_normalize(
    frame_rgb: np.ndarray,
    boxes_xyxy: np.ndarray,
    input_hw: tuple[int, int] = (384, 288),
    padding: float = PADDING,
    out: np.ndarray | None = None,
    scratch: dict | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All DWPose preprocessing of the people in one frame.

    Args:
        frame_rgb: (H, W, 3) uint8 RGB (or (H, W, 4) RGBA, alpha ignored).
        boxes_xyxy: (N, 4) pixels.
        input_hw: model input (h, w).
        padding: box padding (1.25).
        out: optional (N, 3, h, w) float32 buffer to fill.
        scratch: optional dict the caller keeps between calls; the uint8 intermediates (RGBA
            frame, crop, planes) are kept in it instead of being allocated per call. Its
            contents are private to this function.

    Returns:
        (N, 3, h, w) float32 model input, centers (N, 2) float32, aspect-fixed scales (N, 2)
        float32 (what back-projection needs).
    """
    h, w = input_hw
    centers, scales = box_to_center_scale(boxes_xyxy, padding)
    scales = fix_aspect(scales, w / h)
    n = centers.shape[0]
    if out is None:
        out = np.empty((n, 3, h, w), np.float32)
    if n == 0:
        return out, centers, scales
    mats = [warp_matrix(centers[i], scales[i], (w, h)) for i in range(n)]
    # OpenCV's bilinear warp has a much faster path for 4-channel uint8 than for 3-channel
    # (about 2.5x here) and gives the same values per channel, so pad to RGBA first; only the
    # pixels the warps can read are converted (see source_rects).
    if frame_rgb.shape[2] == 3:
        fh, fw = frame_rgb.shape[:2]
        src = _scratch_buffer(scratch, ("rgba", fh, fw), (fh, fw, 4))
        for x0, y0, x1, y1 in source_rects(mats, (w, h), (fh, fw)):
            cv2.cvtColor(
                frame_rgb[y0:y1, x0:x1], cv2.COLOR_RGB2RGBA, dst=src[y0:y1, x0:x1]
            )  # writes into the view (checked by the tests)
    else:
        src = frame_rgb
    nc = src.shape[2]
    crop = _scratch_buffer(scratch, ("crop", h, w, nc), (h, w, nc))
    planes = tuple(_scratch_buffer(scratch, ("planes", h, w, nc), (nc, h, w)))
    for i in range(n):
        crop = cv2.warpAffine(
            src, mats[i], (w, h), dst=crop, flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT, borderValue=0,
        )  # fmt: skip
        normalize_crop(crop, out=out[i], planes=planes)
    return out, centers, scales


#: Pixels added around the exact source rectangle of a warp. A bilinear sample at x reads
#: columns floor(x) and floor(x) + 1; OpenCV rounds x to 1/32 px, so 2 px covers every read.
SOURCE_MARGIN = 2


def source_rects(
    mats: list[np.ndarray], out_wh: tuple[int, int], frame_hw: tuple[int, int]
) -> list[tuple[int, int, int, int]]:
    """Frame rectangles (x0, y0, x1, y1), end-exclusive and clipped, that hold every pixel the
    affine warps ``mats`` (image → crop, 2×3) of output size ``out_wh`` can read.

    One rectangle per warp, or their common bounding rectangle when that is no larger than
    their areas summed. Rectangles of warps that read nothing inside the frame are left out.
    """
    w, h = out_wh
    fh, fw = frame_hw
    corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]], np.float64)
    rects = []
    for m in mats:
        pts = corners @ cv2.invertAffineTransform(m).T  # (4, 2) source positions
        lo = np.floor(pts.min(axis=0)) - SOURCE_MARGIN
        hi = np.ceil(pts.max(axis=0)) + SOURCE_MARGIN + 1
        if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
            return [(0, 0, fw, fh)]
        x0, y0 = int(max(lo[0], 0)), int(max(lo[1], 0))
        x1, y1 = int(min(hi[0], fw)), int(min(hi[1], fh))
        if x0 < x1 and y0 < y1:
            rects.append((x0, y0, x1, y1))
    if len(rects) > 1:
        a = np.array(rects)
        union = (int(a[:, 0].min()), int(a[:, 1].min()), int(a[:, 2].max()), int(a[:, 3].max()))
        area = (union[2] - union[0]) * (union[3] - union[1])
        if area <= int(((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])).sum()):
            return [union]
    return rects
