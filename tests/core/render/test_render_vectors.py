"""Renderer test vectors R1–R5 (reference_spec.md §12.6), multi-person, empty frames, chunking."""

from __future__ import annotations

import numpy as np
import pytest

from scail_pose_core import Pose3D, PoseFrame, PoseSequence
from scail_pose_core.render import RenderOptions, render_capsule_frames, render_rgba
from scail_pose_core.render.backend_torch import CameraParams
from scail_pose_core.render.depth import DepthConstants, depth_constants
from scail_pose_core.render.scene import FrameCapsules, sequence_capsules
from scail_pose_core.render.style import character_base_colors, character_render_colors
from scail_pose_core.skeletons import openpose as op

OPTS = RenderOptions(backend="torch", device="cpu")
RED = op.render_color((255, 0, 0))
SKY = op.render_color((0, 170, 255))


def _one(start, end, rgba) -> FrameCapsules:
    return FrameCapsules.from_arrays([start], [end], [rgba])


def _render(frames, cam) -> np.ndarray:
    return render_capsule_frames(frames, cam, depth_constants(frames), OPTS)


def _r5_joints() -> np.ndarray:
    j = np.zeros((24, 3), np.float32)
    for i, p in {
        0: (0, 0, 4000), 1: (90, 80, 4000), 2: (-90, 80, 4000), 4: (100, 480, 4000),
        5: (-100, 480, 4000), 7: (110, 880, 4000), 8: (-110, 880, 4000), 12: (0, -500, 4000),
        15: (0, -680, 4000), 16: (180, -450, 4000), 17: (-180, -450, 4000),
        18: (450, -450, 3900), 19: (-450, -450, 3900), 20: (700, -450, 3800),
        21: (-700, -450, 3800),
    }.items():  # fmt: skip
        j[i] = p
    return j


def test_r1_single_capsule() -> None:
    cam = CameraParams(100.0, 100.0, 32.0, 32.0, (64, 64))
    img = _render([_one((0, -200, 3000), (0, 200, 3000), RED)], cam)[0]
    assert tuple(img[32, 32]) == (255, 165, 165, 204)
    ys, xs = np.nonzero(img[..., 3])
    assert len(ys) == 15 and set(xs) == {32} and (ys.min(), ys.max()) == (25, 39)


def test_r2_depth_range_shared_across_video() -> None:
    cam = CameraParams(100.0, 100.0, 32.0, 32.0, (64, 64))
    frames = [_one((0, -200, z), (0, 200, z), RED) for z in (3000, 6000)]
    dc = depth_constants(frames)
    assert (dc.depth_near, dc.depth_far) == (3000.0, 12000.0)
    img = _render(frames, cam)
    assert tuple(img[0, 32, 32]) == (255, 165, 165, 204)
    assert tuple(img[1, 32, 32]) == (255, 124, 124, 204)
    alone = _render(frames[1:], cam)[0]  # frame 1 alone: its own (per-video) depth range
    assert tuple(alone[32, 32]) == (255, 165, 165, 204) != tuple(img[1, 32, 32])
    # chunked rendering with the whole video's constants equals the one-go render
    dc_all = depth_constants(frames)
    chunked = np.concatenate(
        [render_capsule_frames([f], cam, dc_all, OPTS) for f in frames]
    )  # fmt: skip
    np.testing.assert_array_equal(chunked, img)


def test_r3_empty_frame_next_to_non_empty() -> None:
    cam = CameraParams(100.0, 100.0, 32.0, 32.0, (64, 64))
    img = _render([FrameCapsules.empty(), _one((0, -200, 3000), (0, 200, 3000), RED)], cam)
    assert not img[0].any() and img[1].any()


def test_r4_side_on_capsule_profile() -> None:
    cam = CameraParams(500.0, 500.0, 64.0, 64.0, (128, 128))
    img = _render([_one((-100, 0, 1000), (100, 0, 1000), SKY)], cam)[0]
    assert int((img[..., 3] > 0).sum()) == 2461
    assert set(np.nonzero(img[64, :, 3])[0]) == set(range(4, 125))
    assert set(np.nonzero(img[:, 64, 3])[0]) == set(range(54, 75))
    expected = [(21, 103, 144), (26, 125, 175), (29, 140, 196), (31, 152, 212),
                (33, 161, 224), (37, 170, 236), (47, 184, 253), (70, 211, 255),
                (109, 252, 255), (148, 255, 255), (165, 255, 255)]  # fmt: skip
    got = img[54:65, 64, :3].astype(int)
    assert np.abs(got - np.array(expected)).max() <= 2
    mirror = img[65:75, 64, :3].astype(int)[::-1]
    assert np.abs(mirror - img[54:64, 64, :3].astype(int)).max() <= 1
    assert set(np.unique(img[..., 3])) == {0, 204}


def test_r5_full_skeleton() -> None:
    seq = PoseSequence((PoseFrame(pose3d=Pose3D(_r5_joints()[None])),), (512, 896))
    caps = sequence_capsules(seq, "single")
    assert len(caps[0]) == 13
    assert list(caps[0].limbs) == [0, 2, 3, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    img = render_rgba(seq, RenderOptions(backend="torch", device="cpu", draw_2d=False))[0]
    assert abs(int((img[..., 3] > 0).sum()) - 8861) <= 9  # ≤ 0.1 %
    expected = {
        (429, 154): (255, 133, 133), (379, 158): (255, 124, 56), (319, 155): (255, 201, 64),
        (467, 154): (133, 255, 255), (517, 158): (56, 191, 255), (577, 155): (64, 132, 255),
        (438, 211): (255, 255, 156), (428, 316): (139, 255, 139), (425, 402): (138, 255, 209),
        (458, 211): (156, 156, 255), (468, 316): (209, 139, 255), (471, 402): (255, 138, 255),
        (448, 129): (255, 255, 255),
    }  # fmt: skip
    for (x, y), rgb in expected.items():
        assert img[y, x, 3] == 204
        assert np.abs(img[y, x, :3].astype(int) - rgb).max() <= 2, (x, y, img[y, x])


def _two_people(front: int) -> Pose3D:
    """Two R5 skeletons crossing: person 0 shifted left, person 1 right, arms overlapping."""
    j = _r5_joints()
    nz = np.any(j != 0, axis=1)
    p0, p1 = j.copy(), j.copy()
    p0[nz] += (-250, 0, 0)
    p1[nz] += (250, 0, 0)
    (p0 if front == 0 else p1)[nz, 2] -= 600.0
    return Pose3D(np.stack([p0, p1]))


@pytest.mark.parametrize("front", [0, 1])
def test_multi_person_nearest_surface_wins(front: int) -> None:
    size = (512, 896)
    pose = _two_people(front)
    seq = PoseSequence((PoseFrame(pose3d=pose),), size)
    opts = RenderOptions(backend="torch", device="cpu", draw_2d=False)
    both = render_rgba(seq, opts)[0]
    caps = sequence_capsules(seq)  # auto → multi palette
    dc = depth_constants(caps)
    cam = CameraParams(seq.camera.fx, seq.camera.fy, seq.camera.cx, seq.camera.cy, size)
    singles = []
    for slot in (0, 1):
        sel = caps[0].persons == slot
        fc = FrameCapsules(
            *(getattr(caps[0], f)[sel] for f in ("starts", "ends", "rgba", "limbs", "persons"))
        )
        singles.append(render_capsule_frames([fc], cam, dc, opts)[0])
    cov0, cov1 = singles[0][..., 3] > 0, singles[1][..., 3] > 0
    overlap = cov0 & cov1
    assert overlap.sum() > 50  # the arms really cross
    winner = singles[front]
    # where both cover, the front person's pixels are shown (junction flips aside)
    same = (np.abs(both[overlap].astype(int) - winner[overlap].astype(int)) <= 2).all(-1)
    assert same.mean() > 0.98
    only0 = cov0 & ~cov1
    np.testing.assert_array_equal(both[only0], singles[0][only0])
    assert not both[~(cov0 | cov1)].any()


def test_palettes() -> None:
    assert character_base_colors(0, "multi") == op.LIMB_COLORS_MULTI_0
    assert character_base_colors(1, "multi") == op.LIMB_COLORS_MULTI_1
    assert character_base_colors(5, "single") == op.LIMB_COLORS_SINGLE[:13]
    tables = [character_base_colors(k, "multi") for k in range(6)]
    assert len({t for t in tables}) == 6  # every identity distinct
    c = character_render_colors(1, "multi")
    assert c.dtype == np.float32 and c.shape == (13, 4)
    np.testing.assert_array_equal(c[:, 3], np.float32(0.8))
    np.testing.assert_array_equal(
        c[0, :3], np.float32([255 / 300 + 0.15, 20 / 300 + 0.15, 20 / 300 + 0.15])
    )


def test_frames_without_person_render_black_and_chunking_is_invisible() -> None:
    j = _r5_joints()
    frames = []
    for i in range(7):
        if i in (0, 3):
            frames.append(PoseFrame())  # nothing at all
        elif i == 5:
            frames.append(PoseFrame(pose3d=Pose3D(np.zeros((1, 24, 3), np.float32))))
        else:
            moved = j.copy()
            moved[np.any(j != 0, axis=1), 2] += 300.0 * i
            frames.append(PoseFrame(pose3d=Pose3D(moved[None])))
    seq = PoseSequence(tuple(frames), (256, 448))
    whole = render_rgba(seq, RenderOptions(backend="torch", device="cpu", chunk_size=64))
    parts = render_rgba(seq, RenderOptions(backend="torch", device="cpu", chunk_size=2))
    np.testing.assert_array_equal(whole, parts)
    for i in (0, 3, 5):
        assert not whole[i].any()
    assert all(whole[i].any() for i in (1, 2, 4, 6))
    # no capsule anywhere → black frames, no crash (the reference crashes here)
    empty = PoseSequence((PoseFrame(), PoseFrame()), (64, 64))
    assert not render_rgba(empty, OPTS).any()


def test_depth_constants_clamps() -> None:
    dc = DepthConstants.from_z_range(-100.0, 30000.0)
    assert dc.depth_near == np.float32(0.1) and dc.zfar == 25000.0 and dc.depth_far == 20000.0
    dc = DepthConstants.from_z_range(1000.0, 2000.0)
    assert dc.zfar == 10000.0 and dc.depth_far == 8000.0 and dc.depth_near == 1000.0


def test_grazing_hits_are_checked_by_the_reference_march() -> None:
    """A capsule seen almost along its axis (1.2 m → 8 m): the reference's 300-step tracer runs
    out of steps on grazing rays; the analytic hit alone over-covers, the march check fixes it.
    The numpy (CPU) and masked-torch (CUDA) march loops agree ray for ray."""
    import torch

    from scail_pose_core.render import backend_torch as bt

    cam = CameraParams(860.5999928830823, 860.5999928830823, 448.0, 256.0, (512, 896))
    fc = _one((-250, 80, 1200), (350, 80, 8000), op.render_color((0, 0, 255)))
    dc = DepthConstants.from_z_range(900.0, 8000.0)
    ch = bt._Chunk.build([fc], torch.device("cpu"))
    pix, capk = bt.cull_pairs(ch, cam, 21.5 + bt.HIT_EPS)
    t, hit = bt.trace_pairs(ch, cam, pix, capk, 21.5 + bt.HIT_EPS, dc.zfar)
    analytic = int(hit.sum())
    img = render_capsule_frames([fc], cam, dc, OPTS)[0]
    covered = int((img[..., 3] > 0).sum())
    assert covered == 4268  # the reference's coverage (golden syn_capsule frame 4)
    assert analytic > covered + 30
    dirs = bt._DIRS.get(cam, torch.device("cpu"))
    sel = hit.nonzero().squeeze(1)
    d, th, k = dirs[pix[sel]], t[sel], capk[sel]
    a = bt.march_confirm(ch, d, th, k, dc.zfar, use_numpy=True)
    b = bt.march_confirm(ch, d, th, k, dc.zfar, use_numpy=False)
    assert torch.equal(a, b)
    assert int(a.sum()) == covered


def _brute_force_tracer(frames, cam, dc) -> np.ndarray:
    """The reference sphere tracer, written plainly (float32, all pixels): coverage masks."""
    f = np.float32
    h, w = cam.size_hw
    ys, xs = np.mgrid[0:h, 0:w].astype(f)
    d = np.stack([(xs - f(cam.cx)) / f(cam.fx), (ys - f(cam.cy)) / f(cam.fy), np.ones_like(xs)], -1)
    d = (d / np.linalg.norm(d, axis=-1, keepdims=True)).reshape(-1, 3).astype(f)
    out = []
    for fc in frames:
        a, b = fc.starts, fc.ends
        ab = b - a
        length = np.linalg.norm(ab, axis=-1).astype(f)
        u = (ab / np.maximum(length, f(1e-30))[:, None]).astype(f)
        t = np.full(len(d), f(0.1), f)
        hit = np.zeros(len(d), bool)
        live = np.ones(len(d), bool)
        for _ in range(300):
            pa = (t[:, None] * d)[:, None, :] - a
            hh = np.clip(np.einsum("rkc,kc->rk", pa, u), f(0), length)
            dist = (np.linalg.norm(pa - hh[..., None] * u, axis=-1) - f(21.5)).min(1)
            new_hit = live & (dist < f(1e-3))
            hit |= new_hit
            live &= ~new_hit & ~(t > f(dc.zfar))
            t = np.where(live, t + np.maximum(dist, f(1e-4)), t).astype(f)
        out.append(hit.reshape(h, w))
    return np.stack(out)


def test_coverage_equals_a_brute_force_tracer_near_zfar_and_grazing() -> None:
    """Wide camera: rays to the image corners are ~1.5× longer than their depth, so parts of a
    capsule at z ≈ 9 m lie beyond zfar = 10 m along the ray; plus a capsule seen along its axis."""
    cam = CameraParams(120.0, 120.0, 96.0, 96.0, (192, 192))
    frames = [
        FrameCapsules.from_arrays(
            [(-7000, -7000, 9000), (-200, 100, 600)],
            [(7000, 7000, 9200), (300, 150, 7000)],
            [RED, SKY],
        ),  # fmt: skip
        _one((-6500, 6000, 9300), (6500, -6000, 8800), SKY),
        # spheres towards the corners, ~1.5·9.7 m along the ray (beyond zfar): the tracer still
        # reaches their centres, where one step from t ≤ zfar lands on the surface
        FrameCapsules.from_arrays(
            [(-7600, -7600, 9700), (7000, 7000, 9000)],
            [(-7600, -7600, 9700), (7000, 7000, 9000)],
            [RED, SKY],
        ),  # fmt: skip
    ]
    dc = depth_constants(frames)
    assert dc.zfar == 10000.0
    ours = _render(frames, cam)[..., 3] > 0
    ref = _brute_force_tracer(frames, cam, dc)
    for k in range(2):
        assert ref[k].sum() > 50
        assert (ours[k] != ref[k]).sum() <= 2, (k, (ours[k] != ref[k]).sum(), ref[k].sum())
