"""The nvdiffrast renderer (CUDA): rasterised culling + the torch backend's exact per-pixel maths.

nvdiffrast is an optional dependency, imported lazily. Each capsule is rasterised (with depth
test) as an oriented box that contains it (axis from a − r·û to b + r·û, square cross-section of
half-side r, r the effective radius plus a margin), with pixel centres shifted so that raster
sample (x + 0.5, y + 0.5) is the reference's integer ray (x, y). Every covered pixel is then
tested analytically against **all** capsules of its frame and shaded by exactly the same code as
the torch backend (:func:`backend_torch.trace_pairs`, :func:`backend_torch.resolve_and_shade`),
so the two backends agree by construction wherever the boxes cover the capsules — which they
do, since each box contains its capsule. Chunks holding a capsule within a few mm of the camera
plane (boxes cannot be clipped safely there) use the torch backend's culling instead.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

import numpy as np
import torch

from ..errors import OptionalDependencyError
from . import backend_torch as bt
from .depth import DepthConstants
from .scene import CAPSULE_RADIUS_MM, FrameCapsules

LOGGER = logging.getLogger("scail_pose")

#: Box faces (two triangles each) over corners indexed sx*4 + sy*2 + sz (s ∈ {0, 1}).
_BOX_TRIS = np.array(
    [[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
     [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]], dtype=np.int32,
)  # fmt: skip
_NEAR, _FAR = 0.5, 1.0e6
_BOX_MARGIN_MM = 0.5

_INSTALL_HINT = (
    "install it into ComfyUI's Python with "
    "`pip install git+https://github.com/NVlabs/nvdiffrast.git --no-build-isolation` "
    "(needs a CUDA toolkit), or choose backend='torch'"
)


def _import_nvdiffrast():
    try:
        import nvdiffrast.torch as dr  # type: ignore[import-not-found]
    except Exception as exc:  # ImportError, or a broken build raising at import
        raise OptionalDependencyError(
            f"the nvdiffrast render backend needs the optional package nvdiffrast, which could "
            f"not be imported ({type(exc).__name__}: {exc}); {_INSTALL_HINT}"
        ) from exc
    return dr


@functools.lru_cache(maxsize=4)
def _context(device: str):
    dr = _import_nvdiffrast()
    if not torch.cuda.is_available():
        raise OptionalDependencyError(
            "the nvdiffrast render backend needs a CUDA GPU, but torch.cuda.is_available() is "
            "False; choose backend='torch'"
        )
    try:
        return dr.RasterizeCudaContext(device=torch.device(device))
    except Exception as exc:
        raise OptionalDependencyError(
            f"nvdiffrast is installed but could not create a CUDA rasteriser context "
            f"({type(exc).__name__}: {exc}); {_INSTALL_HINT}"
        ) from exc


def is_available(device: str = "cuda") -> bool:
    """True when CUDA is present, nvdiffrast imports and a context can be created."""
    if not torch.cuda.is_available() or not str(device).startswith("cuda"):
        return False
    try:
        _context(str(device))
    except OptionalDependencyError as exc:
        LOGGER.debug("nvdiffrast backend unavailable: %s", exc)
        return False
    return True


def _box_corners(a: torch.Tensor, b: torch.Tensor, r: float) -> torch.Tensor:
    """(M, 8, 3) corners of boxes containing the capsules a→b of radius r."""
    ab = b - a
    length = torch.linalg.vector_norm(ab, dim=-1, keepdim=True)
    ex = torch.tensor([1.0, 0.0, 0.0], device=a.device).expand_as(ab)
    u = torch.where(length > 1e-8, ab / length.clamp(min=1e-30), ex)
    helper = torch.where(
        u[:, :1].abs() < 0.9, ex, torch.tensor([0.0, 1.0, 0.0], device=a.device).expand_as(ab)
    )
    v = torch.linalg.cross(u, helper)
    v = v / torch.linalg.vector_norm(v, dim=-1, keepdim=True)
    w = torch.linalg.cross(u, v)
    s = torch.tensor([0.0, 1.0], device=a.device)
    p0, p1 = a - r * u, b + r * u
    corners = []
    for sx in s:
        for sy in s:
            for sz in s:
                base = p0 + sx * (p1 - p0)
                corners.append(base + (2 * sy - 1) * r * v + (2 * sz - 1) * r * w)
    return torch.stack(corners, 1)


def _covered_pairs(
    ch: bt._Chunk, cam: bt.CameraParams, r: float, device: str
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(pixel, capsule) pairs: covered pixels × all capsules of their frame; None → fall back."""
    dr = _import_nvdiffrast()
    h, w = cam.size_hw
    corners = _box_corners(ch.a, ch.b, r + _BOX_MARGIN_MM)
    if bool((corners[..., 2] <= 2 * _NEAR).any()):
        return None
    counts = torch.bincount(ch.frame, minlength=ch.n_frames)
    kmax = int(counts.max())
    starts = torch.cumsum(counts, 0) - counts
    z = corners[..., 2]
    u = cam.fx * corners[..., 0] / z + cam.cx + 0.5
    v = cam.fy * corners[..., 1] / z + cam.cy + 0.5
    zc = (z * (_FAR + _NEAR) - 2 * _FAR * _NEAR) / (_FAR - _NEAR)
    clip = torch.stack([(2 * u / w - 1) * z, (2 * v / h - 1) * z, zc, z], -1)  # (M, 8, 4)
    pos = torch.zeros((ch.n_frames, kmax * 8, 4), device=ch.a.device)
    pos[..., 3] = 1.0  # padding boxes collapse to one point: no coverage
    local = torch.arange(ch.a.shape[0], device=ch.a.device) - starts[ch.frame]
    slots = (local[:, None] * 8 + torch.arange(8, device=ch.a.device)).reshape(-1)
    pos[ch.frame.repeat_interleave(8), slots] = clip.reshape(-1, 4)
    tris = torch.as_tensor(
        (np.arange(kmax)[:, None, None] * 8 + _BOX_TRIS[None]).reshape(-1, 3),
        dtype=torch.int32, device=ch.a.device,
    )  # fmt: skip
    rast, _ = dr.rasterize(_context(device), pos.contiguous(), tris, resolution=[h, w])
    covered = (rast[..., 3] > 0).reshape(-1).nonzero().squeeze(1)  # B·H·W flat indices
    fr = covered // (h * w)
    n = counts[fr]
    owner, loc = bt._ragged_arange(n)
    pix = covered[owner]
    capk = starts[fr[owner]] + loc
    return pix, capk


def render_chunk_nvdiffrast(
    frames: Sequence[FrameCapsules],
    cam: bt.CameraParams,
    depth: DepthConstants | None,
    device: str | torch.device = "cuda",
    radius: float = CAPSULE_RADIUS_MM,
) -> torch.Tensor:
    """Same contract as :func:`backend_torch.render_chunk_torch`, on CUDA via nvdiffrast."""
    dev = torch.device(device)
    h, w = cam.size_hw
    if depth is None or sum(len(f) for f in frames) == 0:
        return torch.zeros((len(frames), h, w, 4), dtype=torch.uint8, device=dev)
    ch = bt._Chunk.build(frames, dev)
    dirs = bt._DIRS.get(cam, dev)
    r_eff = radius + bt.HIT_EPS
    pairs = _covered_pairs(ch, cam, r_eff, str(dev))
    pix, capk = pairs if pairs is not None else bt.cull_pairs(ch, cam, r_eff)
    t, hit = bt.trace_pairs(ch, cam, pix, capk, r_eff, depth.zfar)
    return bt.resolve_and_shade(ch, dirs, pix, capk, t, hit, depth, cam, radius)
