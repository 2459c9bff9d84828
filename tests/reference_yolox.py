"""The reference's YOLOX steps written out plainly (reference_spec.md §2): an oracle for tests
and for the per-box baseline of benchmarks/bench_pose2d.py. Deliberately literal and slow."""

from __future__ import annotations

import cv2
import numpy as np


def reference_nms(boxes: np.ndarray, scores: np.ndarray, thr: float) -> np.ndarray:
    """The greedy single-class NMS loop with the legacy +1 IoU; kept indices, best first."""
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep = []
    while order.size > 0:
        i = order[0]
        keep.append(i)
        xx1 = np.maximum(x1[i], x1[order[1:]])
        yy1 = np.maximum(y1[i], y1[order[1:]])
        xx2 = np.minimum(x2[i], x2[order[1:]])
        yy2 = np.minimum(y2[i], y2[order[1:]])
        inter = np.maximum(0.0, xx2 - xx1 + 1) * np.maximum(0.0, yy2 - yy1 + 1)
        ovr = inter / (areas[i] + areas[order[1:]] - inter)
        order = order[np.where(ovr <= thr)[0] + 1]
    return np.array(keep, np.int64)


def reference_letterbox(img_bgr: np.ndarray) -> tuple[np.ndarray, float]:
    """Resize (INTER_LINEAR, truncating sizes), paste top-left on 114, CHW float32; and r."""
    r = min(640 / img_bgr.shape[0], 640 / img_bgr.shape[1])
    pad = np.ones((640, 640, 3), np.uint8) * 114
    size = (int(img_bgr.shape[1] * r), int(img_bgr.shape[0] * r))
    res = cv2.resize(img_bgr, size, interpolation=cv2.INTER_LINEAR).astype(np.uint8)
    pad[: size[1], : size[0]] = res
    return np.ascontiguousarray(pad.transpose(2, 0, 1), dtype=np.float32), r


def reference_postprocess(raw: np.ndarray, ratio: float) -> np.ndarray:
    """Grid decode + 80-class class-aware NMS (score > 0.1, IoU 0.45) + person filter (> 0.3).

    Args:
        raw: (8400, 85) model output of one image.
        ratio: the letterbox factor r.

    Returns:
        (N, 5) person boxes xyxy in input pixels and scores, in the reference's order.
    """
    out = raw[None].copy()
    grids, strides = [], []
    for s in (8, 16, 32):
        xv, yv = np.meshgrid(np.arange(640 // s), np.arange(640 // s))
        grids.append(np.stack((xv, yv), 2).reshape(1, -1, 2))
        strides.append(np.full((1, (640 // s) ** 2, 1), s))
    grids, strides = np.concatenate(grids, 1), np.concatenate(strides, 1)
    out[..., :2] = (out[..., :2] + grids) * strides
    out[..., 2:4] = np.exp(out[..., 2:4]) * strides
    pred = out[0]
    boxes = pred[:, :4]
    scores = pred[:, 4:5] * pred[:, 5:]
    xyxy = np.ones_like(boxes)
    xyxy[:, 0] = boxes[:, 0] - boxes[:, 2] / 2.0
    xyxy[:, 1] = boxes[:, 1] - boxes[:, 3] / 2.0
    xyxy[:, 2] = boxes[:, 0] + boxes[:, 2] / 2.0
    xyxy[:, 3] = boxes[:, 1] + boxes[:, 3] / 2.0
    xyxy /= ratio
    dets = []
    for c in range(80):
        cs = scores[:, c]
        m = cs > 0.1
        if not m.any():
            continue
        vb, vs = xyxy[m], cs[m]
        for i in reference_nms(vb, vs, 0.45):
            dets.append([*vb[i], vs[i], c])
    d = np.array(dets).reshape(-1, 6)
    d = d[(d[:, 4] > 0.3) & (d[:, 5] == 0)]
    return d[:, :5]
