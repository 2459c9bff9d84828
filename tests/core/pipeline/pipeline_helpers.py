"""Helpers of the pipeline/CLI tests and the benchmark: synthetic videos, example folders, stand-ins."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def make_video(path: Path, frames: int = 6, hw: tuple[int, int] = (64, 96), fps: float = 25.0):
    """A small H.264 mp4 of moving grey gradients (no person)."""
    from scail_pose_core.media.video import write_video

    h, w = hw
    t = np.arange(frames)[:, None, None]
    y = np.arange(h)[None, :, None]
    x = np.arange(w)[None, None, :]
    g = ((x * 2 + y + t * 7) % 256).astype(np.uint8)
    write_video(path, np.repeat(g[..., None], 3, axis=-1), fps=fps)
    return path


def make_image(path: Path, hw: tuple[int, int] = (80, 60)) -> Path:
    import cv2

    img = np.full((*hw, 3), 120, np.uint8)
    img[10:40, 20:40] = (200, 30, 30)
    assert cv2.imwrite(str(path), img)
    return path


def make_example(tmp_path: Path) -> Path:
    """A reference-style example folder: driving.mp4 + ref_image.jpg (no person in them)."""
    d = tmp_path / "001"
    d.mkdir()
    make_video(d / "driving.mp4")
    make_image(d / "ref_image.jpg")
    return d
