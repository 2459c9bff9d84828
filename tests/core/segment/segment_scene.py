"""Synthetic multi-character scenes with planted answers (helpers for the segment tests).

Each character is a flat coloured rectangle at a fixed depth moving along x; nearer characters
are painted last (they occlude). Ground truth per frame: each character's visible mask, its 2D
pose (keypoints inside its rectangle; hidden points get a low score), and a planted 3D
skeleton whose pelvis back-projects the visible mask centroid at the character's depth.
The 2D "detector" lists people in a shuffled order every frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scail_pose_core.skeletons import openpose as op
from scail_pose_core.types import Camera, Detections, Pose2D, PoseFrame

BG = (200, 200, 200)


@dataclass(frozen=True)
class Character:
    color: tuple[int, int, int]
    depth_mm: float
    width: int
    height: int
    x0: float  # left edge at frame 0 (pixels)
    vx: float  # pixels per frame
    top: int


@dataclass
class Scene:
    frames: np.ndarray  # (T, H, W, 3) uint8
    masks: np.ndarray  # (T, C, H, W) bool, visible pixels of each character
    rects: np.ndarray  # (T, C, 4) int xyxy full rectangles
    poses: list[PoseFrame]  # shuffled detector order
    truth_rows: list[dict[int, int]]  # per frame: character -> row in poses[t].pose2d
    characters: tuple[Character, ...]

    @property
    def size_hw(self) -> tuple[int, int]:
        return int(self.frames.shape[1]), int(self.frames.shape[2])


def crossing_characters(n: int = 2) -> tuple[Character, ...]:
    """Two or three characters whose paths cross; index 0 is the nearest (drawn in front)."""
    chars = [
        Character((220, 40, 40), 3000.0, 22, 60, 10.0, 5.0, 20),  # near, walks right
        Character((40, 40, 220), 5000.0, 16, 44, 120.0, -5.0, 28),  # far, walks left
        Character((40, 180, 40), 4000.0, 18, 52, 70.0, 1.5, 24),  # middle, slow
    ]
    return tuple(chars[:n])


def _keypoints(rect: np.ndarray, w: int, h: int, signature: float) -> dict[str, np.ndarray]:
    """Normalised keypoints inside ``rect``; hands/face carry a per-character signature."""
    x0, y0, x1, y1 = rect.astype(np.float64)
    rw, rh = x1 - x0, y1 - y0
    g = np.linspace(0.15, 0.85, op.NUM_BODY)
    body = np.stack([x0 + rw * (0.3 + 0.4 * ((np.arange(24) % 3) / 2)), y0 + rh * g], 1)
    face = np.stack(
        [x0 + rw * np.linspace(0.35, 0.65, 68), y0 + rh * (0.06 + 0.02 * np.sin(np.arange(68)))],
        1,
    )
    lhand = np.stack(
        [x0 + rw * (0.85 + 0.005 * signature) * np.ones(21), y0 + rh * np.linspace(0.4, 0.5, 21)],
        1,
    )
    rhand = np.stack(
        [x0 + rw * (0.15 - 0.005 * signature) * np.ones(21), y0 + rh * np.linspace(0.4, 0.5, 21)],
        1,
    )
    s = np.array([w, h], np.float64)
    return {"body": body / s, "face": face / s, "lhand": lhand / s, "rhand": rhand / s}


def _score(points_norm: np.ndarray, visible: np.ndarray, size_hw) -> np.ndarray:
    h, w = size_hw
    px = np.floor(points_norm * np.array([w, h])).astype(int)
    px[:, 0] = px[:, 0].clip(0, w - 1)
    px[:, 1] = px[:, 1].clip(0, h - 1)
    return np.where(visible[px[:, 1], px[:, 0]], 0.9, 0.1).astype(np.float32)


def make_scene(
    characters: tuple[Character, ...], num_frames: int = 24, size_hw=(96, 160), seed: int = 0
) -> Scene:
    rng = np.random.default_rng(seed)
    h, w = size_hw
    c_n = len(characters)
    frames = np.empty((num_frames, h, w, 3), np.uint8)
    masks = np.zeros((num_frames, c_n, h, w), bool)
    rects = np.zeros((num_frames, c_n, 4), np.int64)
    poses, truth = [], []
    order = np.argsort([-c.depth_mm for c in characters])  # far first
    for t in range(num_frames):
        img = np.empty((h, w, 3), np.uint8)
        img[...] = BG
        owner = np.full((h, w), -1)
        for k in order:
            ch = characters[k]
            x0 = int(round(ch.x0 + ch.vx * t))
            r = np.array([x0, ch.top, x0 + ch.width, ch.top + ch.height])
            rects[t, k] = r
            xa, xb = max(0, r[0]), min(w, r[2])
            if xb > xa:
                img[r[1] : r[3], xa:xb] = ch.color
                owner[r[1] : r[3], xa:xb] = k
        frames[t] = img
        for k in range(c_n):
            masks[t, k] = owner == k
        # 2D people: those with a visible mask, shuffled
        people = [k for k in range(c_n) if masks[t, k].sum() > 20]
        rng.shuffle(people)
        rows = []
        for k in people:
            kp = _keypoints(rects[t, k], w, h, signature=float(k + 1))
            vis = masks[t, k]
            rows.append(
                {
                    "body_norm": kp["body"],
                    "body_scores": _score(kp["body"], vis, size_hw),
                    "face_norm": kp["face"],
                    "face_scores": _score(kp["face"], vis, size_hw),
                    "lhand_norm": kp["lhand"],
                    "lhand_scores": _score(kp["lhand"], vis, size_hw),
                    "rhand_norm": kp["rhand"],
                    "rhand_scores": _score(kp["rhand"], vis, size_hw),
                }
            )
        for row in rows:  # hidden face/hand points are −1 in the pose-dict convention
            for part in ("face", "lhand", "rhand"):
                hidden = row[part + "_scores"] < op.SCORE_THRESHOLD
                row[part + "_norm"] = np.where(hidden[:, None], -1.0, row[part + "_norm"])
        if rows:
            pose = Pose2D(**{key: np.stack([r[key] for r in rows]) for key in rows[0]})
        else:
            pose = Pose2D.empty()
        boxes = np.array([rects[t, k] for k in people], np.float32).reshape(-1, 4)
        dets = Detections(boxes, np.full((len(people),), 0.9, np.float32))
        poses.append(PoseFrame(detections=dets, pose2d=pose))
        truth.append({k: i for i, k in enumerate(people)})
    return Scene(frames, masks, rects, poses, truth, tuple(characters))


#: A small standing skeleton relative to the pelvis (mm, OpenCV axes: y down), SMPL-24 order.
SKELETON_MM = np.array(
    [
        [0, 0, 0], [90, 60, 0], [-90, 60, 0], [0, -120, 0], [100, 450, 0], [-100, 450, 0],
        [0, -250, 0], [100, 850, 0], [-100, 850, 0], [0, -350, 0], [110, 900, 40],
        [-110, 900, 40], [0, -500, 0], [80, -480, 0], [-80, -480, 0], [0, -650, 0],
        [180, -470, 0], [-180, -470, 0], [330, -300, 0], [-330, -300, 0], [420, -120, 0],
        [-420, -120, 0], [450, -60, 0], [-450, -60, 0],
    ],
    np.float32,
)  # fmt: skip


def planted_lift(characters: tuple[Character, ...], size_hw, calls: list | None = None):
    """A lift_fn: finds which character's colour the masked image shows and places a skeleton
    at that character's depth, its pelvis on the visible centroid. Records inputs in ``calls``."""
    cam = Camera.from_fov(size_hw)

    def lift(images):
        out = []
        for img in images:
            if calls is not None:
                calls.append(img.copy())
            found = None
            for k, ch in enumerate(characters):
                m = np.all(img == np.array(ch.color, np.uint8), axis=-1)
                if m.any():
                    found = (k, m)
                    break
            if found is None:
                out.append(None)
                continue
            k, m = found
            ys, xs = np.nonzero(m)
            z = characters[k].depth_mm
            pelvis = np.array(
                [(xs.mean() - cam.cx) * z / cam.fx, (ys.mean() - cam.cy) * z / cam.fy, z],
                np.float32,
            )
            out.append(SKELETON_MM + pelvis)
        return out

    return lift
