"""The 2D overlay drawn over the 3D render (reference_spec.md §5.5), with OpenCV.

Per person, on its own black uint8 RGB canvas, in this order:

1. "cheek": ellipses nose→R eye, R eye→R ear, nose→L eye, L eye→L ear (``ellipse2Poly`` with
   delta 1 + ``fillConvexPoly``, semi-axes (int(length/2), 4)); the canvas is then multiplied by
   0.6 and truncated; then radius-4 filled circles at nose, eyes and ears (subset ≠ −1).
2. hands (left, then right — each person's **own** hands, fixing reference_spec.md §10.3):
   20 coloured 8-connected edges of thickness t, then blue filled circles of radius t.
3. face: white filled circles of radius t at face points 17–26 and 36–67.

Pixels are ``int(x·W)``, ``int(y·H)``; hand/face points are drawn only when both exceed 0.01
(so −1 points and column/row 0 never are). t = min(max(int(min(H, W)/300), 1), 2).
The per-person canvases are summed as uint8 (wrapping on overlap, as the reference).
Compositing (:func:`composite_overlay`) is per channel: a non-zero canvas channel replaces that
channel of the render; alpha is untouched.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..skeletons import openpose as op
from ..types import Pose2D

EPS = 0.01
CHEEK_LIMBS: tuple[tuple[int, int], ...] = ((0, 14), (14, 16), (0, 15), (15, 17))
CHEEK_COLORS: tuple[tuple[int, int, int], ...] = (
    (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170),
)  # fmt: skip
CHEEK_POINTS: dict[int, tuple[int, int, int]] = {
    0: (255, 0, 0), 14: (170, 0, 255), 15: (255, 0, 255), 16: (255, 0, 170), 17: (255, 0, 85),
}  # fmt: skip
CHEEK_SCALE = 0.6
CHEEK_POINT_RADIUS = 4
CHEEK_STICK_WIDTH = 4
HAND_EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10), (10, 11),
    (11, 12), (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20),
)  # fmt: skip
HAND_POINT_COLOR = (0, 0, 255)
FACE_COLOR = (255, 255, 255)
FACE_POINTS: tuple[int, ...] = tuple(range(17, 27)) + tuple(range(36, 68))


def _hsv_edge_color(k: int, n: int = len(HAND_EDGES)) -> tuple[float, float, float]:
    """HSV(k/n, 1, 1) → RGB × 255 as floats (OpenCV rounds them when drawing; §12.5)."""
    h = k / float(n)
    i = int(h * 6.0)
    f = h * 6.0 - i
    p, q, t = 0.0, 1.0 - f, f
    i %= 6
    rgb = ((1.0, t, p), (q, 1.0, p), (p, 1.0, t), (p, q, 1.0), (t, p, 1.0), (1.0, p, q))[i]
    return tuple(c * 255.0 for c in rgb)  # type: ignore[return-value]


HAND_EDGE_COLORS: tuple[tuple[float, float, float], ...] = tuple(
    _hsv_edge_color(k) for k in range(len(HAND_EDGES))
)


def line_thickness(size_hw: tuple[int, int]) -> int:
    """t = min(max(int(min(H, W)/300), 1), 2)."""
    return min(max(int(min(size_hw) / 300), 1), 2)


def _draw_cheek(canvas: np.ndarray, body: np.ndarray, visible: np.ndarray) -> np.ndarray:
    h, w = canvas.shape[:2]
    for (i, j), color in zip(CHEEK_LIMBS, CHEEK_COLORS, strict=True):
        if not (visible[i] and visible[j]):
            continue
        xs = (body[i, 0] * float(w), body[j, 0] * float(w))
        ys = (body[i, 1] * float(h), body[j, 1] * float(h))
        mx, my = (xs[0] + xs[1]) / 2.0, (ys[0] + ys[1]) / 2.0
        length = math.hypot(xs[0] - xs[1], ys[0] - ys[1])
        angle = math.degrees(math.atan2(ys[0] - ys[1], xs[0] - xs[1]))
        poly = cv2.ellipse2Poly(
            (int(mx), int(my)), (int(length / 2), CHEEK_STICK_WIDTH), int(angle), 0, 360, 1
        )
        cv2.fillConvexPoly(canvas, poly, color)
    canvas = (canvas * CHEEK_SCALE).astype(np.uint8)
    for k, color in CHEEK_POINTS.items():
        if visible[k]:
            x, y = int(body[k, 0] * w), int(body[k, 1] * h)
            cv2.circle(canvas, (x, y), CHEEK_POINT_RADIUS, color, thickness=-1)
    return canvas


def _px(points: np.ndarray, size_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    h, w = size_hw
    xy = [(int(x * w), int(y * h)) for x, y in points]
    arr = np.asarray(xy, dtype=np.int64).reshape(-1, 2)
    vis = (arr[:, 0] > EPS) & (arr[:, 1] > EPS)
    return arr, vis


def _draw_hand(canvas: np.ndarray, hand: np.ndarray, t: int) -> None:
    pts, vis = _px(hand, canvas.shape[:2])
    for (i, j), color in zip(HAND_EDGES, HAND_EDGE_COLORS, strict=True):
        if vis[i] and vis[j]:
            cv2.line(canvas, (int(pts[i, 0]), int(pts[i, 1])), (int(pts[j, 0]), int(pts[j, 1])),
                     color, thickness=t)  # fmt: skip
    for k in np.nonzero(vis)[0]:
        cv2.circle(canvas, (int(pts[k, 0]), int(pts[k, 1])), t, HAND_POINT_COLOR, thickness=-1)


def _draw_face(canvas: np.ndarray, face: np.ndarray, t: int) -> None:
    pts, vis = _px(face[list(FACE_POINTS)], canvas.shape[:2])
    for k in np.nonzero(vis)[0]:
        cv2.circle(canvas, (int(pts[k, 0]), int(pts[k, 1])), t, FACE_COLOR, thickness=-1)


def draw_person(pose: Pose2D, index: int, size_hw: tuple[int, int]) -> np.ndarray:
    """The (H, W, 3) uint8 RGB canvas of one person (cheek, own hands, face)."""
    h, w = size_hw
    t = line_thickness(size_hw)
    canvas = np.zeros((h, w, 3), np.uint8)
    visible = pose.body_scores[index] > op.SCORE_THRESHOLD
    canvas = _draw_cheek(canvas, pose.body_norm[index], visible)
    _draw_hand(canvas, pose.lhand_norm[index], t)
    _draw_hand(canvas, pose.rhand_norm[index], t)
    _draw_face(canvas, pose.face_norm[index], t)
    return canvas


def draw_overlay(pose: Pose2D | None, size_hw: tuple[int, int]) -> np.ndarray:
    """The frame's 2D layer: (H, W, 3) uint8 RGB, per-person canvases summed with uint8 wrap."""
    h, w = size_hw
    out = np.zeros((h, w, 3), np.uint8)
    if pose is None:
        return out
    for i in range(pose.num_people):
        out += draw_person(pose, i, size_hw)  # uint8 addition wraps, as the reference
    return out


def composite_overlay(rgba: np.ndarray, overlay: np.ndarray) -> np.ndarray:
    """Per-channel replacement (in place and returned): where an overlay channel is non-zero it
    replaces that channel of ``rgba`` (H, W, 4) uint8; alpha is untouched."""
    rgb = rgba[..., :3]
    np.copyto(rgb, overlay, where=overlay != 0)
    return rgba
