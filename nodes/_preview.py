"""PoseSequence -> the JSON payload the 3D preview (web/js/pose_viewer.js) draws.

Bones are the reference renderer's 13 3D limbs (OpenPose limbs 0–12 mapped onto SMPL-24 joints)
with the renderer's colours (``scail_pose_core.render.style``: ``c/300 + 0.15`` of the same
palette and identities), so the preview looks like the render. Joints stay in camera
millimetres, OpenCV axes; the viewer converts to its own axes.
"""

from __future__ import annotations

import numpy as np

from ..scail_pose_core.render import scene, style
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


def _colors(character: int, palette: str) -> list[list[float]]:
    """The render's RGB colours (``c/300 + 0.15``, clipped to 1) of limbs 0–12 for one
    character, from the renderer's own palette function (identical by construction)."""
    rgba = style.character_render_colors(character, palette)
    return [[round(min(float(v), 1.0), 4) for v in row[:3]] for row in rgba]


def preview_payload(seq: PoseSequence, max_frames: int = 300, palette: str = "auto") -> dict:
    """JSON-serialisable description of ``seq``'s 3D poses (at most ``max_frames`` frames).

    Characters are identities as the renderer sees them (the track id when assigned, else the
    person slot), sorted by id; each carries the colours :func:`render_sequence` gives it under
    ``palette`` (``"auto"`` resolved over the whole sequence, like the render), so the viewer
    shows the same colours as the rendered video.
    """
    pal = style.resolve_palette(palette, scene.max_people_3d(seq))
    n = len(seq.frames)
    idx = list(range(n)) if n <= max_frames else np.linspace(0, n - 1, max_frames).round()
    idx = [int(i) for i in idx]
    raw: list[list[tuple[int, list[float]]]] = []
    for i in idx:
        p3 = seq.frames[i].pose3d
        rows = []
        if p3 is not None:
            for p in range(p3.num_people):
                if bool(p3.present[p]):
                    joints = np.round(p3.joints_mm[p].astype(np.float64), 1).ravel().tolist()
                    rows.append((scene.character_of(p3, p), joints))
        raw.append(rows)
    keys = sorted({k for rows in raw for k, _ in rows})
    slot = {k: ci for ci, k in enumerate(keys)}
    cam = seq.camera
    return {
        "version": PAYLOAD_VERSION,
        "fps": float(seq.fps),
        "size_hw": [int(seq.size_hw[0]), int(seq.size_hw[1])],
        "camera": {"fx": cam.fx, "fy": cam.fy, "cx": cam.cx, "cy": cam.cy},
        "bones": _bones(),
        "palette": pal,
        "characters": [
            {"id": k, "label": f"character {k}", "colors": _colors(k, pal)} for k in keys
        ],
        "frames": [[[slot[k], joints] for k, joints in rows] for rows in raw],
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
