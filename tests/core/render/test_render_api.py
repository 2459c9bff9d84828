"""Sampler outputs (sizes, half, 4n+1, mask), backends, GLB export, GPU parity."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from render_golden_util import GOLDEN_CASES, camera_of, golden_capsules, golden_depth, load_json
from support_paths import shared_path

from scail_pose_core import OptionalDependencyError, Pose3D, PoseFrame, PoseSequence
from scail_pose_core.errors import InputError
from scail_pose_core.render import (
    RenderOptions,
    available_backends,
    export_glb,
    iter_render_rgba,
    render_capsule_frames,
    render_rgba,
    render_sequence,
)
from scail_pose_core.render.output import check_output_size, frame_count_4n1


def _joints(z: float = 4000.0) -> np.ndarray:
    j = np.zeros((24, 3), np.float32)
    for i, p in {
        0: (0, 0, z), 1: (90, 80, z), 2: (-90, 80, z), 4: (100, 480, z), 5: (-100, 480, z),
        7: (110, 880, z), 8: (-110, 880, z), 12: (0, -500, z), 15: (0, -680, z),
        16: (180, -450, z), 17: (-180, -450, z), 18: (450, -450, z), 19: (-450, -450, z),
        20: (700, -450, z), 21: (-700, -450, z),
    }.items():  # fmt: skip
        j[i] = p
    return j


def _seq(n: int, size=(256, 448)) -> PoseSequence:
    frames = []
    for i in range(n):
        j = _joints(3000.0 + 100 * i)
        frames.append(PoseFrame(pose3d=Pose3D(j[None])) if i != 2 else PoseFrame())
    return PoseSequence(tuple(frames), size, fps=16.0)


CPU = dict(backend="torch", device="cpu")


def test_frame_counts_4n1() -> None:
    assert [frame_count_4n1(n, "trim") for n in (1, 4, 5, 8, 9, 81, 84)] == [1, 1, 5, 5, 9, 81, 81]
    assert [frame_count_4n1(n, "pad") for n in (1, 2, 5, 6, 80, 81)] == [1, 5, 5, 9, 81, 81]
    assert frame_count_4n1(7, "none") == 7
    with pytest.raises(InputError):
        frame_count_4n1(5, "round")


def test_size_validation_names_sizes_that_work() -> None:
    assert check_output_size((512, 896), "full") == (512, 896)
    assert check_output_size((512, 896), "half") == (256, 448)
    with pytest.raises(InputError) as exc:
        check_output_size((500, 900), "half")
    msg = str(exc.value)
    assert "900x500" in msg and "896x512" in msg and "WanVideoWrapper" in msg
    # full size is the reference output: any size (the multi-person job renders native size)
    assert check_output_size((1080, 2048), "full") == (1080, 2048)
    assert check_output_size((721, 1001), "full") == (721, 1001)
    with pytest.raises(InputError):
        RenderOptions(output_size="quarter")


def test_render_sequence_full_and_half() -> None:
    seq = _seq(6)
    rgba = render_rgba(seq, RenderOptions(**CPU))
    full = render_sequence(seq, RenderOptions(**CPU, frames_4n1="trim"))
    assert full.frame_count == 5 and full.images.shape == (5, 256, 448, 3)
    assert full.images.dtype == torch.float32 and full.mask.shape == (5, 256, 448)
    np.testing.assert_array_equal(full.images.numpy(), rgba[:5, ..., :3] / np.float32(255.0))
    np.testing.assert_array_equal(full.mask.numpy(), (rgba[:5, ..., 3] > 0).astype(np.float32))
    assert not full.images[2].any() and not full.mask[2].any()  # frame without a person
    half = render_sequence(seq, RenderOptions(**CPU, output_size="half", frames_4n1="pad"))
    assert half.frame_count == 9 and half.images.shape == (9, 128, 224, 3)
    ref = F.interpolate(
        torch.from_numpy(rgba[..., :3]).permute(0, 3, 1, 2).float() / 255.0, size=(128, 224),
        mode="bilinear", align_corners=False, antialias=False,
    ).permute(0, 2, 3, 1)  # fmt: skip
    torch.testing.assert_close(half.images[:6], ref, rtol=0, atol=1e-6)
    for k in range(6, 9):  # padding holds the last frame
        assert torch.equal(half.images[k], half.images[5])
    assert float(half.mask.max()) == 1.0 and float(half.mask.min()) == 0.0


def test_progress_cancel_and_iter() -> None:
    seq = _seq(5)
    seen = []
    chunks = list(iter_render_rgba(seq, RenderOptions(**CPU, chunk_size=2),
                                   progress=lambda d, t: seen.append((d, t))))  # fmt: skip
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert seen[-1] == (5, 5)

    class Stop(Exception):
        pass

    def cancel() -> None:
        raise Stop

    with pytest.raises(Stop):
        render_sequence(seq, RenderOptions(**CPU, chunk_size=2), check_cancel=cancel)
    with pytest.raises(InputError):
        render_sequence(PoseSequence((), (256, 448)), RenderOptions(**CPU))


def test_backends_and_missing_nvdiffrast() -> None:
    names = available_backends()
    assert names[0] == "torch"
    if not torch.cuda.is_available():
        assert names == ["torch"]
        with pytest.raises(OptionalDependencyError, match="nvdiffrast"):
            render_rgba(_seq(1), RenderOptions(backend="nvdiffrast"))
        # auto silently falls back to torch
        assert render_rgba(_seq(1), RenderOptions(backend="auto")).shape == (1, 256, 448, 4)


def test_export_glb(tmp_path) -> None:
    import pygltflib

    seq = _seq(4)
    path = export_glb(seq, tmp_path / "skel", fps=8.0)
    assert path.suffix == ".glb" and path.exists()
    g = pygltflib.GLTF2().load(str(path))
    assert len(g.nodes) == 13 + 14 and len(g.scenes[0].nodes) == 27
    anim = g.animations[0]
    node = next(i for i, n in enumerate(g.nodes) if n.name == "p0_limb0")
    by_path = {
        c.target.path: anim.samplers[c.sampler] for c in anim.channels if c.target.node == node
    }
    assert set(by_path) == {"translation", "rotation", "scale"}
    blob = g.binary_blob()

    def read(acc_idx: int, width: int) -> np.ndarray:
        acc = g.accessors[acc_idx]
        view = g.bufferViews[acc.bufferView]
        data = np.frombuffer(blob, np.float32, acc.count * width, view.byteOffset)
        return data.reshape(acc.count, width) if width > 1 else data

    times = read(by_path["translation"].input, 1)
    np.testing.assert_allclose(times, np.arange(4) / 8.0)
    trans = read(by_path["translation"].output, 3)
    j = _joints(3000.0)  # limb 0 = neck (SMPL 12) → R shoulder (SMPL 17)
    mid = (j[12] + j[17]) / 2 * np.array([1, -1, -1]) / 1000.0
    np.testing.assert_allclose(trans[0], mid, atol=1e-6)
    scale = read(by_path["scale"].output, 3)
    assert scale[2].max() == 0.0  # frame 2 has no person: hidden
    np.testing.assert_allclose(scale[0, 1], np.linalg.norm(j[17] - j[12]) / 1000.0, rtol=1e-5)


@pytest.mark.gpu
def test_gpu_backends_match_torch_cpu() -> None:
    """On CUDA: torch-cuda and nvdiffrast agree with the CPU render within golden thresholds."""
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    from render_golden_util import metrics, passes_defaults

    root = shared_path("golden")
    report = {}
    for case in GOLDEN_CASES:
        d = load_json(root / case / "input.json")
        frames = [golden_capsules(f) for f in d["frames"]]
        cpu = render_capsule_frames(frames, camera_of(d), golden_depth(d), RenderOptions(**CPU))
        for backend in ("torch", "nvdiffrast"):
            if backend not in available_backends() and backend != "torch":
                continue
            out = render_capsule_frames(
                frames, camera_of(d), golden_depth(d), RenderOptions(backend=backend, device="cuda")
            )
            for a, b in zip(cpu, out, strict=True):
                m = metrics(a, b)
                report.setdefault(backend, []).append(m)
                assert passes_defaults(m), (case, backend, m)
    print(json.dumps({k: min(m["within_fg"] for m in v) for k, v in report.items()}))
