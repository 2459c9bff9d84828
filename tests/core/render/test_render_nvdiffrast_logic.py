"""The nvdiffrast backend's own logic (box proxies, clip-space mapping, pixel-centre shift, pairs)
checked on the CPU with a software stand-in for ``nvdiffrast.torch.rasterize``."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import torch

from scail_pose_core import Pose3D, PoseFrame, PoseSequence
from scail_pose_core.render import backend_nvdiffrast as bn
from scail_pose_core.render.backend_torch import CameraParams, render_chunk_torch
from scail_pose_core.render.depth import depth_constants
from scail_pose_core.render.scene import sequence_capsules


def _soft_rasterize(ctx, pos, tri, resolution):
    """Coverage-only rasteriser: samples at pixel centres, row 0 at NDC y = −1 (nvdiffrast's)."""
    h, w = resolution
    ndc = pos[..., :2] / pos[..., 3:4]  # (B, V, 2)
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    px = (2 * (xs.reshape(-1) + 0.5) / w - 1).double()
    py = (2 * (ys.reshape(-1) + 0.5) / h - 1).double()
    out = torch.zeros((pos.shape[0], h * w, 4))
    tri = tri.long()
    for b in range(pos.shape[0]):
        v = ndc[b].double()[tri]  # (T, 3, 2)

        def edge(p0, p1):
            return (p1[:, None, 0] - p0[:, None, 0]) * (py[None] - p0[:, None, 1]) - (
                p1[:, None, 1] - p0[:, None, 1]) * (px[None] - p0[:, None, 0])  # fmt: skip

        e0, e1, e2 = edge(v[:, 0], v[:, 1]), edge(v[:, 1], v[:, 2]), edge(v[:, 2], v[:, 0])
        inside = ((e0 >= 0) & (e1 >= 0) & (e2 >= 0)) | ((e0 <= 0) & (e1 <= 0) & (e2 <= 0))
        area = (e0 + e1 + e2).abs() > 0
        cov = inside & area[:, :1].expand_as(inside) & (e0.abs() + e1.abs() + e2.abs() > 0)
        cov = (
            cov
            & ((v[:, 1] - v[:, 0]).abs().sum(-1) + (v[:, 2] - v[:, 0]).abs().sum(-1) > 0)[:, None]
        )
        any_cov = cov.any(0)
        first = cov.float().argmax(0)
        out[b, any_cov, 3] = (first[any_cov] + 1).float()
    return out.reshape(pos.shape[0], h, w, 4), None


@pytest.fixture
def fake_nvdiffrast(monkeypatch):
    mod = types.ModuleType("nvdiffrast")
    sub = types.ModuleType("nvdiffrast.torch")
    sub.RasterizeCudaContext = lambda device=None: object()
    sub.rasterize = _soft_rasterize
    mod.torch = sub
    monkeypatch.setitem(sys.modules, "nvdiffrast", mod)
    monkeypatch.setitem(sys.modules, "nvdiffrast.torch", sub)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    bn._context.cache_clear()
    yield
    bn._context.cache_clear()


def test_box_proxy_contains_capsule(rng) -> None:
    a = torch.tensor(rng.normal(0, 300, (20, 3)) + [0, 0, 3000], dtype=torch.float32)
    b = a + torch.tensor(rng.normal(0, 200, (20, 3)), dtype=torch.float32)
    b[0] = a[0]  # zero-length capsule (a sphere)
    r = 21.5
    corners = bn._box_corners(a, b, r + bn._BOX_MARGIN_MM).double()
    # sample capsule surface points and check they lie inside the box (its own frame)
    o = corners[:, 0]
    axes = torch.stack([corners[:, 4] - o, corners[:, 2] - o, corners[:, 1] - o], 1)  # (M, 3, 3)
    for _ in range(20):
        t = torch.rand(20, 1, dtype=torch.float64)
        dirs = torch.nn.functional.normalize(torch.randn(20, 3, dtype=torch.float64), dim=1)
        p = a.double() + t * (b - a).double() + r * dirs
        rel = torch.einsum("mij,mj->mi", axes, p - o) / (axes * axes).sum(-1)
        assert bool(((rel >= 0) & (rel <= 1)).all())


def test_nvdiffrast_path_equals_torch_backend(fake_nvdiffrast) -> None:
    j = np.zeros((24, 3), np.float32)
    pts = {0: (0, 0, 4000), 1: (90, 80, 4000), 2: (-90, 80, 4000), 4: (100, 480, 4000),
           5: (-100, 480, 4000), 12: (0, -500, 4000), 15: (0, -680, 4000),
           16: (180, -450, 4000), 17: (-180, -450, 3900), 18: (450, -450, 3900),
           20: (700, -450, 3800)}  # fmt: skip
    for i, p in pts.items():
        j[i] = p
    j2 = j.copy()
    j2[np.any(j != 0, axis=1)] += (300, 100, 500)
    frames = (PoseFrame(pose3d=Pose3D(np.stack([j, j2]))), PoseFrame(pose3d=Pose3D(j[None])),
              PoseFrame())  # fmt: skip
    size = (72, 128)
    seq = PoseSequence(frames, size)
    caps = sequence_capsules(seq)
    dc = depth_constants(caps)
    cam = CameraParams(seq.camera.fx, seq.camera.fy, seq.camera.cx, seq.camera.cy, size)
    assert bn.is_available("cuda")
    ours = bn.render_chunk_nvdiffrast(caps, cam, dc, device="cpu").numpy()
    ref = render_chunk_torch(caps, cam, dc, "cpu").numpy()
    assert ref[:2].any() and not ref[2].any()
    np.testing.assert_array_equal(ours, ref)


def test_missing_nvdiffrast_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "nvdiffrast", None)
    monkeypatch.setitem(sys.modules, "nvdiffrast.torch", None)
    bn._context.cache_clear()
    with pytest.raises(ImportError, match="pip install"):
        bn._import_nvdiffrast()
    assert bn.is_available("cuda") is False
    bn._context.cache_clear()
