"""Camera and crop geometry: test vectors §12.1 (FOV) and §12.2 (resize/crop) of reference_spec.md."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scail_pose_core import Camera, InputError
from scail_pose_core.geometry import (
    fov_focal,
    plan_resize_crop,
    project,
    target_size_for,
    unproject,
)

# §12.1: H×W → f, cx, cy (fov 55°)
FOV_TABLE = [
    ((512, 896), 860.599993, 448.0, 256.0),
    ((896, 512), 860.599993, 256.0, 448.0),
    ((256, 448), 430.299996, 224.0, 128.0),
    ((512, 512), 491.771425, 256.0, 256.0),
    ((720, 1280), 1229.428561, 640.0, 360.0),
    ((1080, 1920), 1844.142842, 960.0, 540.0),
]


@pytest.mark.parametrize(("hw", "f", "cx", "cy"), FOV_TABLE)
def test_fov_intrinsics_table(hw: tuple[int, int], f: float, cx: float, cy: float) -> None:
    assert fov_focal(hw) == pytest.approx(f, abs=1e-6)
    cam = Camera.from_fov(hw)
    assert (cam.fx, cam.fy) == (pytest.approx(f, abs=1e-6), pytest.approx(f, abs=1e-6))
    assert (cam.cx, cam.cy) == (cx, cy)  # exactly W/2, H/2
    k = cam.K
    assert k.shape == (3, 3) and k[2, 2] == 1 and k[0, 1] == 0


def test_tan_half_fov_constant() -> None:
    assert math.tan(math.radians(55.0) / 2) == pytest.approx(0.5205670505517462, abs=1e-15)


def test_project_unproject_round_trip(rng: np.random.Generator) -> None:
    cam = Camera.from_fov((512, 896))
    pts = rng.uniform([-800, -800, 2000], [800, 800, 6000], size=(50, 3))
    px = cam.project(pts)
    # u = f·X/Z + cx by hand for one point
    assert px[0, 0] == pytest.approx(cam.fx * pts[0, 0] / pts[0, 2] + cam.cx)
    back = unproject(px, pts[:, 2], cam.fx, cam.fy, cam.cx, cam.cy)
    np.testing.assert_allclose(back, pts, rtol=0, atol=1e-9)
    # the principal axis projects to the principal point
    np.testing.assert_allclose(project(np.array([0, 0, 1000.0]), 800, 800, 448, 256), [448, 256])


# §12.2: (W_in×H_in) → target (H, W), resized (W×H), crop (left, top)
CROP_TABLE = [
    ((1080, 1920), (512, 896), (910, 512), 7, 0),
    ((720, 1280), (512, 896), (910, 512), 7, 0),
    ((480, 640), (512, 896), (896, 672), 0, 80),
    ((1920, 1080), (896, 512), (512, 910), 0, 7),
]


@pytest.mark.parametrize(("in_hw", "target", "resized_wh", "left", "top"), CROP_TABLE)
def test_resize_crop_geometry_table(
    in_hw: tuple[int, int],
    target: tuple[int, int],
    resized_wh: tuple[int, int],
    left: int,
    top: int,
) -> None:
    assert target_size_for(in_hw) == target
    g = plan_resize_crop(in_hw, target)
    assert (g.resized_hw[1], g.resized_hw[0]) == resized_wh
    assert (g.left, g.top) == (left, top)
    assert g.target_hw == target and g.in_hw == in_hw


def test_orientation_rule() -> None:
    assert target_size_for((1080, 2048)) == (512, 896)  # landscape: H < W
    assert target_size_for((512, 512)) == (896, 512)  # square counts as portrait
    assert target_size_for((1920, 1080)) == (896, 512)
    with pytest.raises(InputError):
        target_size_for((0, 10))
    with pytest.raises(InputError):
        plan_resize_crop((10, 10), (0, 5))


def test_plan_truncates_like_python_int() -> None:
    # 2048×1080 → height 512, width int(2048·512/1080) = int(970.66…) = 970 (truncation)
    g = plan_resize_crop((1080, 2048), (512, 896))
    assert g.resized_hw == (512, 970) and g.left == (970 - 896) // 2 == 37
