"""Greedy non-maximum suppression with the legacy "+1" pixel convention (reference_spec.md §2).

Main entry points: :func:`nms` (one class) and :func:`class_aware_nms` (per class, the YOLOX demo
behaviour: classes never suppress each other).
"""

from __future__ import annotations

import numpy as np


def nms(boxes_xyxy: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices of the boxes kept by greedy NMS, highest score first.

    IoU uses the legacy convention: area = (x2 − x1 + 1)(y2 − y1 + 1) and intersection widths
    +1. A box is suppressed when its IoU with a kept box is > ``iou_threshold`` (kept when ≤).
    Candidates are visited in ``scores.argsort()[::-1]`` order, as the reference does (so exact
    ties resolve the same way).

    Args:
        boxes_xyxy: (N, 4) float pixels.
        scores: (N,) float.
        iou_threshold: suppression threshold (reference 0.45).

    Returns:
        (K,) int64 indices into ``boxes_xyxy``, in descending score order.
    """
    boxes = np.asarray(boxes_xyxy)
    n = boxes.shape[0]
    if n == 0:
        return np.zeros((0,), np.int64)
    order = np.asarray(scores).argsort()[::-1]
    if n == 1:
        return order.astype(np.int64)
    if n <= MATRIX_MAX:
        return order[_greedy_matrix(boxes[order], iou_threshold)]
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    keep: list[int] = []
    while order.size > 0:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(x1[i], x1[rest])
        yy1 = np.maximum(y1[i], y1[rest])
        xx2 = np.minimum(x2[i], x2[rest])
        yy2 = np.minimum(y2[i], y2[rest])
        w = np.maximum(0.0, xx2 - xx1 + 1)
        h = np.maximum(0.0, yy2 - yy1 + 1)
        inter = w * h
        iou = inter / (areas[i] + areas[rest] - inter)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, np.int64)


#: Up to this many candidates, :func:`nms` computes all pairwise IoUs at once (≤ 256² values)
#: instead of a loop of array operations per kept box.
MATRIX_MAX = 256


def _greedy_matrix(b: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS of boxes already sorted by descending score → kept positions (int64).

    Each IoU is computed with exactly the operations, operand order and dtypes of the loop in
    :func:`nms` (row = the kept box), so every keep/suppress decision is the same; the greedy
    pass then visits the candidates in order, as the loop does.
    """
    d = b[:, 2:4] - b[:, 0:2] + 1
    areas = d[:, 0] * d[:, 1]
    lo = np.maximum(b[:, None, 0:2], b[None, :, 0:2])  # (xx1, yy1) of every pair
    hi = np.minimum(b[:, None, 2:4], b[None, :, 2:4])  # (xx2, yy2)
    wh = np.maximum(0.0, hi - lo + 1)
    inter = wh[..., 0] * wh[..., 1]
    iou = inter / (areas[:, None] + areas[None, :] - inter)
    survives = iou <= iou_threshold  # survives[i, j]: j stays when i is kept
    alive = np.ones(b.shape[0], bool)
    keep: list[int] = []
    for i in range(b.shape[0]):
        if alive[i]:
            keep.append(i)
            alive[i + 1 :] &= survives[i, i + 1 :]
    return np.asarray(keep, np.int64)


def class_aware_nms(
    boxes_xyxy: np.ndarray,
    class_scores: np.ndarray,
    iou_threshold: float,
    score_threshold: float,
    classes: np.ndarray | list[int] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class NMS: for each class keep candidates with score > ``score_threshold``, then NMS.

    Args:
        boxes_xyxy: (N, 4) float pixels.
        class_scores: (N, C) float, objectness × class probability.
        iou_threshold: NMS threshold (reference 0.45).
        score_threshold: candidate threshold (reference 0.1).
        classes: only these class ids (default all C). Because classes never interact, running
            only class 0 gives exactly the class-0 rows of running all classes.

    Returns:
        (boxes (K, 4), scores (K,), class_ids (K,) int64), concatenated class by class in
        ascending class id, each class in descending score.
    """
    cls_ids = range(class_scores.shape[1]) if classes is None else classes
    out_b, out_s, out_c = [], [], []
    for c in cls_ids:
        s = class_scores[:, c]
        valid = s > score_threshold
        if not np.any(valid):
            continue
        vb, vs = boxes_xyxy[valid], s[valid]
        keep = nms(vb, vs, iou_threshold)
        out_b.append(vb[keep])
        out_s.append(vs[keep])
        out_c.append(np.full(keep.shape, c, np.int64))
    if not out_b:
        return (
            np.zeros((0, 4), boxes_xyxy.dtype),
            np.zeros((0,), class_scores.dtype),
            np.zeros((0,), np.int64),
        )
    return np.concatenate(out_b), np.concatenate(out_s), np.concatenate(out_c)
