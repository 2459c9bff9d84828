"""PoseSequence -> the JSON payload the 3D preview (web/js/pose_viewer.js) draws.

Bones are the reference renderer's 13 3D limbs (OpenPose limbs 0–12 mapped onto SMPL-24 joints)
with its colours (``c/300 + 0.15``), so the preview looks like the render. Joints stay in camera
millimetres, OpenCV axes; the viewer converts to its own axes.
"""

from __future__ import annotations

import numpy as np

from ..scail_pose_core.skeletons import openpose as op
from ..scail_pose_core.skeletons import smpl
from ..scail_pose_core.types import PoseSequence

PAYLOAD_VERSION = 1
UI_KEY = "scail_pose_preview"


def _bones() -> list[list[int]]:
    out = []
    for li in op.LIMBS_3D:
        a, b = op.LIMBS[li]
        out.append([int(smpl.OP18_FROM_SMPL24[a]), int(smpl.OP18_FROM_SMPL24[b])])
    return out


def _palette(char_index: int, n_chars: int) -> list[list[float]]:
    if n_chars <= 1:
        base = op.LIMB_COLORS_SINGLE[: len(op.LIMBS_3D)]
    else:
        base = (op.LIMB_COLORS_MULTI_0, op.LIMB_COLORS_MULTI_1)[char_index % 2]
    return [[round(min(v, 1.0), 4) for v in op.render_color(c)[:3]] for c in base]


def preview_payload(seq: PoseSequence, max_frames: int = 300) -> dict:
    """JSON-serialisable description of ``seq``'s 3D poses (at most ``max_frames`` frames).

    Characters are the track ids seen (or person slots when ids are unassigned), in order.
    """
    n = len(seq.frames)
    idx = list(range(n)) if n <= max_frames else np.linspace(0, n - 1, max_frames).round()
    idx = [int(i) for i in idx]
    keys: list[int] = []
    frames: list[list] = []
    for i in idx:
        p3 = seq.frames[i].pose3d
        rows = []
        if p3 is not None:
            for p in range(p3.num_people):
                if not bool(p3.present[p]):
                    continue
                key = int(p3.track_ids[p]) if int(p3.track_ids[p]) >= 0 else p
                if key not in keys:
                    keys.append(key)
                joints = np.round(p3.joints_mm[p].astype(np.float64), 1).ravel().tolist()
                rows.append([keys.index(key), joints])
        frames.append(rows)
    cam = seq.camera
    return {
        "version": PAYLOAD_VERSION,
        "fps": float(seq.fps),
        "size_hw": [int(seq.size_hw[0]), int(seq.size_hw[1])],
        "camera": {"fx": cam.fx, "fy": cam.fy, "cx": cam.cx, "cy": cam.cy},
        "bones": _bones(),
        "characters": [
            {"id": k, "label": f"character {k}", "colors": _palette(ci, len(keys))}
            for ci, k in enumerate(keys)
        ],
        "frames": frames,
        "frame_indices": idx,
    }


def overlay_frames(images, frames, limit: int = 4):
    """IMAGE of up to ``limit`` input frames with their person boxes and the 2D face/hands layer
    (the render's own overlay) drawn on top: the DWPose node's in-node preview."""
    import cv2

    from ..scail_pose_core.render.draw2d import draw_overlay
    from . import _convert

    picks = _convert.pick_preview_frames(len(frames), limit)
    rgb = _convert.image_to_uint8(images[picks])
    for k, i in enumerate(picks):
        canvas = rgb[k]
        layer = draw_overlay(frames[i].pose2d, canvas.shape[:2])
        np.copyto(canvas, layer, where=layer != 0)
        dets = frames[i].detections
        for box in [] if dets is None else dets.boxes_xyxy.round().astype(int):
            cv2.rectangle(canvas, (int(box[0]), int(box[1])), (int(box[2]), int(box[3])),
                          (255, 255, 255), 1)  # fmt: skip
    return _convert.uint8_to_image(rgb)
