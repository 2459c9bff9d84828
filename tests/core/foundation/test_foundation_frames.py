"""resize_crop: the reference's bicubic antialiased resize + centre crop (§1.2, §12.2)."""

from __future__ import annotations

import numpy as np
import pytest

from scail_pose_core import InputError
from scail_pose_core.geometry import plan_resize_crop, target_size_for
from scail_pose_core.media.frames import float_to_uint8, resize_crop, uint8_to_float


def _smooth(h: int, w: int, seed: int) -> np.ndarray:
    """A smooth colour image with values well inside [0, 255] (no clipping anywhere)."""
    r = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.zeros((h, w, 3))
    for c in range(3):
        for _ in range(4):
            fx, fy, ph = r.uniform(0, 6 / w), r.uniform(0, 6 / h), r.uniform(0, 6.28)
            out[..., c] += np.sin(2 * np.pi * (fx * xx * 4 + fy * yy * 4) + ph)
    return np.clip(128 + out * 22, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("in_hw", "out_hw"),
    [((1080, 1920), (512, 896)), ((1920, 1080), (896, 512)), ((480, 640), (512, 896))],
)
def test_shape_and_constant_colour(in_hw: tuple[int, int], out_hw: tuple[int, int]) -> None:
    assert target_size_for(in_hw) == out_hw
    frames = np.empty((2, *in_hw, 3), np.uint8)
    frames[0] = (200, 17, 90)
    frames[1] = (0, 255, 128)
    out = resize_crop(frames, plan_resize_crop(in_hw, out_hw))
    assert out.shape == (2, *out_hw, 3) and out.dtype == np.uint8
    assert np.all(out[0] == (200, 17, 90)) and np.all(out[1] == (0, 255, 128))


@pytest.mark.parametrize(
    ("in_hw", "target"),
    [((270, 512), (128, 224)), ((60, 80), (512, 896)), ((512, 270), (224, 128))],
)
def test_matches_pil_antialiased_bicubic(in_hw: tuple[int, int], target: tuple[int, int]) -> None:
    """PIL's bicubic (a = −0.5, antialiased) is what torch's antialias=True mode reproduces;
    PIL rounds its intermediate pass to uint8, so allow ±1."""
    image_mod = pytest.importorskip("PIL.Image")
    img = _smooth(*in_hw, seed=3)
    g = plan_resize_crop(in_hw, target)
    ours = resize_crop(img[None], g)[0]
    pil = np.asarray(
        image_mod.fromarray(img).resize((g.resized_hw[1], g.resized_hw[0]), image_mod.BICUBIC)
    )
    ref = pil[g.top : g.top + target[0], g.left : g.left + target[1]]
    diff = np.abs(ours.astype(np.int16) - ref.astype(np.int16))
    assert diff.max() <= 1, diff.max()


def test_antialias_suppresses_aliasing() -> None:
    """A fine 64/192 checkerboard shrunk ~4.4× must come out near its mean grey; a resize
    without antialiasing samples the pattern and keeps values near 64 or 192."""
    yy, xx = np.mgrid[0:480, 0:640]
    board = np.where((yy + xx) % 2 == 0, 64, 192).astype(np.uint8)
    frames = np.repeat(board[None, :, :, None], 3, axis=3)
    out = resize_crop(frames, plan_resize_crop((480, 640), (110, 140)))
    assert np.abs(out.astype(int) - 128).max() <= 3


def test_crop_offsets_select_the_centre() -> None:
    # a frame whose width equals the resized width keeps its columns; crop picks the middle rows
    in_hw, target = (40, 16), (20, 16)  # same width: no resize, crop top = 10
    g = plan_resize_crop(in_hw, target)
    assert g.resized_hw == in_hw and (g.top, g.left) == (10, 0)
    frames = np.zeros((1, *in_hw, 3), np.uint8)
    frames[0, :, :, 0] = np.arange(40)[:, None]
    out = resize_crop(frames, g)
    np.testing.assert_array_equal(out[0, :, 0, 0], np.arange(10, 30))


def test_chunking_does_not_change_results() -> None:
    frames = np.stack([_smooth(90, 160, s) for s in range(5)])
    g = plan_resize_crop((90, 160), (40, 56))
    whole = resize_crop(frames, g)
    chunked = resize_crop(frames, g, max_pixels_per_chunk=90 * 160 * 2)  # 2 frames per chunk
    np.testing.assert_array_equal(whole, chunked)
    single = resize_crop(frames[3], g)
    np.testing.assert_array_equal(single, whole[3])


def test_bad_input_messages() -> None:
    g = plan_resize_crop((90, 160), (40, 56))
    with pytest.raises(InputError, match=r"expected uint8 frames shaped \(T, H, W, 3\)"):
        resize_crop(np.zeros((1, 90, 160, 3), np.float32), g)
    with pytest.raises(InputError, match="crop plan was made for 90x160"):
        resize_crop(np.zeros((1, 80, 160, 3), np.uint8), g)


def test_float_uint8_helpers() -> None:
    torch = pytest.importorskip("torch")
    a = np.array([0, 1, 127, 128, 254, 255], np.uint8)
    f = uint8_to_float(a)
    assert f.dtype == np.float32 and f[-1] == 1.0 and f[0] == 0.0
    np.testing.assert_array_equal(float_to_uint8(f), a)
    np.testing.assert_array_equal(float_to_uint8(np.array([-0.2, 0.5, 1.7])), [0, 128, 255])
    t = uint8_to_float(torch.from_numpy(a))
    assert t.dtype == torch.float32
    back = float_to_uint8(t)
    assert back.dtype == torch.uint8 and back.tolist() == a.tolist()
    with pytest.raises(InputError, match="expected a uint8"):
        uint8_to_float(np.zeros(3, np.float32))
