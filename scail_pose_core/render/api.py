"""Public render entry points: options, backends, sequence → RGBA / IMAGE + MASK."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputError
from ..runtime import CancelFn, ProgressFn, Reporter, resolve_torch_device
from ..types import PoseSequence
from . import backend_nvdiffrast
from .backend_torch import CameraParams, render_chunk_torch
from .depth import DepthConstants, depth_constants
from .draw2d import composite_overlay, draw_overlay
from .output import check_output_size, frame_count_4n1, rgba_to_image_mask
from .scene import FrameCapsules, sequence_capsules
from .style import PALETTES

LOGGER = logging.getLogger("scail_pose")
BACKENDS = ("auto", "torch", "nvdiffrast")


@dataclass(frozen=True)
class RenderOptions:
    """How to render a pose sequence.

    Fields:
        backend: "auto" (nvdiffrast when CUDA + nvdiffrast work, else torch), "torch",
            "nvdiffrast".
        device: "auto", "cpu", "cuda", "cuda:N" (torch device for the render).
        output_size: "full" (render size, the reference; ComfyUI's WanSCAILToVideo halves it
            itself) or "half" (WanVideoWrapper: bilinear ×0.5, align_corners False).
        frames_4n1: "none", "trim" (largest 4k+1 ≤ T) or "pad" (repeat the last frame up to
            the smallest 4k+1 ≥ T).
        draw_2d: draw the face/hands/cheek overlay from the 2D poses.
        palette: "auto", "single" or "multi" (see :mod:`.style`).
        chunk_size: frames rendered per batch (bounds memory; results do not depend on it).
    """

    backend: str = "auto"
    device: str = "auto"
    output_size: str = "full"
    frames_4n1: str = "none"
    draw_2d: bool = True
    palette: str = "auto"
    chunk_size: int = 16

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise InputError(
                f"RenderOptions.backend must be one of {BACKENDS}, got {self.backend!r}"
            )
        if self.palette not in PALETTES:
            raise InputError(
                f"RenderOptions.palette must be one of {PALETTES}, got {self.palette!r}"
            )
        if int(self.chunk_size) < 1:
            raise InputError(f"RenderOptions.chunk_size must be >= 1, got {self.chunk_size}")
        frame_count_4n1(1, self.frames_4n1)  # validates the name
        check_output_size((32, 32), self.output_size)  # validates the name


@dataclass(frozen=True)
class RenderResult:
    """IMAGE (T, h, w, 3) float32 in [0, 1] on black, MASK (T, h, w) float32 (1 where the 3D
    skeleton covers the pixel), both on the CPU; ``frame_count`` = T."""

    images: torch.Tensor
    mask: torch.Tensor
    frame_count: int


RenderFn = Callable[..., torch.Tensor]


def available_backends() -> list[str]:
    """Backends usable here: always "torch"; "nvdiffrast" when CUDA + nvdiffrast work."""
    out = ["torch"]
    if backend_nvdiffrast.is_available(resolve_torch_device("auto")):
        out.append("nvdiffrast")
    return out


def resolve_backend(options: RenderOptions) -> tuple[str, str, RenderFn]:
    """(backend name, torch device, chunk render function) for ``options``."""
    device = resolve_torch_device(options.device)
    name = options.backend
    if name == "auto":
        name = "nvdiffrast" if backend_nvdiffrast.is_available(device) else "torch"
    if name == "nvdiffrast":
        if not device.startswith("cuda"):
            device = "cuda"
        backend_nvdiffrast._context(device)  # raises OptionalDependencyError with the fix
        return name, device, backend_nvdiffrast.render_chunk_nvdiffrast
    return name, device, render_chunk_torch


def camera_params(seq: PoseSequence) -> CameraParams:
    cam = seq.camera
    assert cam is not None  # PoseSequence always sets one
    return CameraParams(cam.fx, cam.fy, cam.cx, cam.cy, seq.size_hw)


def render_capsule_frames(
    frames: Sequence[FrameCapsules],
    cam: CameraParams,
    depth: DepthConstants | None,
    options: RenderOptions = RenderOptions(),
) -> np.ndarray:
    """Render prepared capsule lists with given (video-global) depth constants →
    (T, H, W, 4) uint8 RGBA (3D only). For goldens and tests."""
    _, device, fn = resolve_backend(options)
    parts = []
    for i in range(0, len(frames), options.chunk_size):
        parts.append(fn(frames[i : i + options.chunk_size], cam, depth, device).cpu().numpy())
    h, w = cam.size_hw
    return np.concatenate(parts) if parts else np.zeros((0, h, w, 4), np.uint8)


def iter_render_rgba(
    seq: PoseSequence,
    options: RenderOptions = RenderOptions(),
    progress: ProgressFn | None = None,
    check_cancel: CancelFn | None = None,
    frame_range: tuple[int, int] | None = None,
) -> Iterator[np.ndarray]:
    """Yield the reference RGBA frames (t, H, W, 4) uint8 chunk by chunk (full size, 3D + 2D).

    The video-global depth constants are computed over **all** frames of ``seq`` first, so
    the frames are identical to those of a one-go render. ``frame_range`` = (start, stop)
    renders only those frames (still lit with the whole video's constants).
    """
    if len(seq) == 0:
        raise InputError("cannot render an empty pose sequence (0 frames)")
    caps = sequence_capsules(seq, options.palette)
    depth = depth_constants(caps)
    if depth is None:
        LOGGER.info("no 3D skeleton in any frame: rendering %d black frames", len(seq))
    name, device, fn = resolve_backend(options)
    cam = camera_params(seq)
    start, stop = frame_range if frame_range is not None else (0, len(seq))
    rep = Reporter(progress, check_cancel).start(stop - start)
    LOGGER.debug("rendering frames %d..%d with %s on %s", start, stop, name, device)
    for i in range(start, stop, options.chunk_size):
        j = min(i + options.chunk_size, stop)
        rgba = fn(caps[i:j], cam, depth, device).cpu().numpy()
        if options.draw_2d:
            for k in range(i, j):
                pose2d = seq.frames[k].pose2d
                if pose2d is not None and pose2d.num_people:
                    composite_overlay(rgba[k - i], draw_overlay(pose2d, seq.size_hw))
        yield rgba
        rep.step(j - i)


def render_rgba(
    seq: PoseSequence,
    options: RenderOptions = RenderOptions(),
    progress: ProgressFn | None = None,
    check_cancel: CancelFn | None = None,
) -> np.ndarray:
    """All frames as reference RGBA: (T, H, W, 4) uint8, full size, 3D render + 2D overlay."""
    return np.concatenate(list(iter_render_rgba(seq, options, progress, check_cancel)))


def render_sequence(
    seq: PoseSequence,
    options: RenderOptions = RenderOptions(),
    progress: ProgressFn | None = None,
    check_cancel: CancelFn | None = None,
) -> RenderResult:
    """Render for the SCAIL samplers: IMAGE + MASK at ``output_size``, 4n+1 handling.

    Raises:
        InputError: empty sequence, or a size that does not suit the samplers (the message
            names sizes that work).
    """
    out_h, out_w = check_output_size(seq.size_hw, options.output_size)
    n = len(seq)
    if n == 0:
        raise InputError("cannot render an empty pose sequence (0 frames)")
    n_out = frame_count_4n1(n, options.frames_4n1)
    n_render = min(n, n_out)
    images = torch.zeros((n_out, out_h, out_w, 3), dtype=torch.float32)
    mask = torch.zeros((n_out, out_h, out_w), dtype=torch.float32)
    pos = 0
    for rgba in iter_render_rgba(seq, options, progress, check_cancel, (0, n_render)):
        n_chunk = len(rgba)
        dst = (images[pos : pos + n_chunk], mask[pos : pos + n_chunk])
        rgba_to_image_mask(rgba, options.output_size, out=dst)
        pos += n_chunk
    if n_out > n_render:  # pad by holding the last frame
        images[n_render:] = images[n_render - 1]
        mask[n_render:] = mask[n_render - 1]
    return RenderResult(images=images, mask=mask, frame_count=n_out)
