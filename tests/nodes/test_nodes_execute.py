"""Every node run the way ComfyUI runs it (schema, widget validation, execute) with stand-in
models whose answers are planted (tests/standin_*.py), on a small synthetic video."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from comfy_nodes_support import (
    FRAME_HW,
    PERSON_BOX,
    ValidationError,
    figure_frames,
    run_node,
    to_image,
)

T = 5


@pytest.fixture(scope="module")
def video():
    return to_image(figure_frames(T))


@pytest.fixture(scope="module")
def models(node_classes, standin_models):
    dw = run_node(node_classes["ScailPoseLoadDWPose"], provider="CPU")[0]
    nlf = run_node(node_classes["ScailPoseLoadNLF"], device="cpu")[0]
    return dw, nlf


@pytest.fixture(scope="module")
def poses2d(node_classes, models, video):
    return run_node(node_classes["ScailPoseDWPoseDetect"], dwpose_model=models[0], images=video)[0]


@pytest.fixture(scope="module")
def poses3d(node_classes, models, video, poses2d):
    lift = node_classes["ScailPoseNLF3DLift"]
    return run_node(lift, nlf_model=models[1], images=video, poses=poses2d)[0]


def test_loaders_list_files_cache_and_refuse_missing_without_download(node_classes, models):
    load = node_classes["ScailPoseLoadDWPose"]
    opts = {i.id: i for i in load.GET_SCHEMA().inputs}["detector_file"].options
    assert "yolox_l.onnx" in opts and "dw-ll_ucoco_384.onnx" in opts
    again = run_node(load, provider="CPU")[0]
    assert again is models[0]  # loaded once, reused
    assert run_node(node_classes["ScailPoseLoadNLF"], device="cpu")[0] is models[1]
    sam2 = node_classes["ScailPoseLoadSAM2"]
    with pytest.raises(FileNotFoundError) as err:  # MissingWeightsError, fast, no network
        run_node(sam2, model_file="sam2.1_hiera_tiny.pt", device="cpu")
    assert "sam2" in str(err.value)


def test_resize_crop_matches_reference_orientation(node_classes):
    img = to_image(np.full((2, 300, 500, 3), 200, np.uint8))
    out = run_node(node_classes["ScailPoseResizeCrop"], images=img, short_side=256, long_side=448)
    assert tuple(out[0].shape) == (2, 256, 448, 3) and (out[1], out[2]) == (448, 256)
    portrait = to_image(np.zeros((1, 500, 300, 3), np.uint8))
    ref = run_node(node_classes["ScailPoseResizeCrop"], images=portrait, short_side=256,
                   long_side=448, match_to=img)  # fmt: skip
    assert tuple(ref[0].shape) == (1, 256, 448, 3)  # the video's orientation wins


def test_detect_finds_the_planted_person(poses2d):
    assert len(poses2d) == T and poses2d.size_hw == FRAME_HW
    for f in poses2d.frames:
        assert len(f.detections) == 1
        np.testing.assert_allclose(f.detections.boxes_xyxy[0], PERSON_BOX, atol=2.0)
        assert f.pose2d.num_people == 1


def test_lift_adds_3d_where_the_person_stands(poses3d):
    for f in poses3d.frames:
        p3 = f.pose3d
        assert p3.num_people == 1 and bool(p3.present[0])
        uv = poses3d.camera.project(p3.joints_mm[0, :1])[0]  # pelvis -> centre of the box
        cx, cy = (PERSON_BOX[0] + PERSON_BOX[2]) / 2, (PERSON_BOX[1] + PERSON_BOX[3]) / 2
        assert abs(uv[0] - cx) < 6 and abs(uv[1] - cy) < 6


def test_lift_checks_frames_against_poses(node_classes, models, poses2d):
    other = to_image(figure_frames(T + 1))
    with pytest.raises(ValueError, match="frames"):
        run_node(node_classes["ScailPoseNLF3DLift"], nlf_model=models[1], images=other,
                 poses=poses2d)  # fmt: skip


#: DWPose (COCO-WholeBody) keypoint -> SMPL-24 joint at the same body place, marked for the
#: camera-fit test: shoulders (their midpoint is the 2D neck) and knees/ankles, so the fit runs in
#: the reference's "down" mode (§6.2) on points where 2D and 3D agree.
AGREE_MARKS = {5: 16, 6: 17, 13: 4, 14: 5, 15: 7, 16: 8}
BOX_REF = (220.0, 30.0, 319.0, 239.0)  # the reference's person: 1.1x the driving one, moved


def _agreeing_frame(box) -> np.ndarray:
    """A grey person in ``box`` whose DWPose markers sit exactly where the NLF stand-in's
    joints project with K0 (tests/standin_nlf.py: joint j of region (x0, y0, w, h) projects to
    (x0 + u_j w, y0 + v_j h)), so the 2D and 3D of this person agree."""
    from standin_nlf import TEMPLATE_UV
    from standin_onnx import draw_marker

    h, w = FRAME_HW
    x1, y1, x2, y2 = (int(v) for v in box)
    img = np.zeros((h, w, 3), np.uint8)
    img[y1:y2, x1:x2] = 70
    for code, joint in enumerate(AGREE_MARKS.values(), start=1):
        u, v = TEMPLATE_UV[joint]
        draw_marker(img, (x1 + u * (x2 - x1), y1 + v * (y2 - y1)), code)
    return img


@pytest.fixture
def agreeing_models(node_classes, standin_models):
    """(video pair, reference pair, nlf): DWPose reading the agreeing markers, YOLOX at the
    driving box and at the reference's box; the loaders' cache is restored afterwards."""
    import sys

    import folder_paths
    from standin_onnx import build_dwpose_standin, build_yolox_standin

    from scail_pose_core.detection.yolox import letterbox_ratio

    loaders = sys.modules[node_classes["ScailPoseLoadDWPose"].__module__]
    saved = dict(loaders._CACHE)
    det = Path(folder_paths.models_dir) / "detection"
    codes = np.zeros(133, np.int64)
    for code, kp in enumerate(AGREE_MARKS, start=1):
        codes[kp] = code
    build_dwpose_standin(det / "dwpose_agree_test.onnx", codes=codes)
    r, _ = letterbox_ratio(FRAME_HW)
    build_yolox_standin(det / "yolox_ref_box_test.onnx", [[v * r for v in BOX_REF]],
                        dynamic_batch=True)  # fmt: skip
    load = node_classes["ScailPoseLoadDWPose"]
    try:
        video_pair = run_node(load, pose_file="dwpose_agree_test.onnx", provider="CPU")[0]
        ref_pair = run_node(load, detector_file="yolox_ref_box_test.onnx",
                            pose_file="dwpose_agree_test.onnx", provider="CPU")[0]  # fmt: skip
        nlf = run_node(node_classes["ScailPoseLoadNLF"], device="cpu")[0]
        yield video_pair, ref_pair, nlf
    finally:
        loaders._CACHE.clear()
        loaders._CACHE.update(saved)
        for name in ("dwpose_agree_test.onnx", "yolox_ref_box_test.onnx"):
            (det / name).unlink(missing_ok=True)


def test_retarget_camera_fit_moves_the_skeleton_onto_the_reference(node_classes,
                                                                   agreeing_models):  # fmt: skip
    video_pair, ref_pair, nlf = agreeing_models
    detect, lift = node_classes["ScailPoseDWPoseDetect"], node_classes["ScailPoseNLF3DLift"]
    video = to_image(np.repeat(_agreeing_frame(PERSON_BOX)[None], 3, axis=0))
    ref_img = to_image(_agreeing_frame(BOX_REF)[None])
    drv = run_node(lift, nlf_model=nlf, images=video,
                   poses=run_node(detect, dwpose_model=video_pair, images=video)[0])[0]  # fmt: skip
    ref = run_node(lift, nlf_model=nlf, images=ref_img,
                   poses=run_node(detect, dwpose_model=ref_pair, images=ref_img)[0])[0]  # fmt: skip
    # the planted agreement holds: the reference's 2D shoulders sit on its 3D shoulders
    h, w = FRAME_HW
    ref2d = ref.frames[0].pose2d.body_norm[0, [5, 2]] * np.array([w, h])
    ref3d = ref.camera.project(ref.frames[0].pose3d.joints_mm[0, [16, 17]])
    np.testing.assert_allclose(ref2d, ref3d, atol=1.5)

    out = run_node(node_classes["ScailPoseRetarget3D"], poses=drv, reference=ref,
                   mode="camera_fit")[0]  # fmt: skip
    report = out.meta["retarget"]
    assert report["applied"] is True and report["characters"][0]["camera_fit"]["applied"]
    k0, k = drv.camera, out.camera
    # the 1.1x size, within what the fit's 2D neck (shoulder midpoint, 0.03 body heights below
    # SMPL's neck joint) and its few points allow
    assert 1.04 < k.fx / k0.fx < 1.16 and 1.04 < k.fy / k0.fy < 1.16
    assert abs(k.cx - k0.cx) > 20  # and the shift
    # the driving skeleton, drawn with the fitted camera, lands on the reference's person
    joints = out.frames[0].pose3d.joints_mm[0, list(AGREE_MARKS.values())]
    want = ref.camera.project(ref.frames[0].pose3d.joints_mm[0, list(AGREE_MARKS.values())])
    err = np.abs(k.project(joints) - want)
    assert err[2:].max() < 1.5  # knees and ankles: the fitted points (4x the neck's weight)
    assert err.max() < 6.0  # shoulders: off by the 2D/3D neck difference only
    assert np.abs(k0.project(joints) - want).max() > 15.0  # (it did not before)
    small = run_node(node_classes["ScailPoseResizeCrop"], images=video[:1], short_side=128,
                     long_side=224)[0]  # fmt: skip
    ref_small = run_node(detect, dwpose_model=video_pair, images=small)[0]
    with pytest.raises(ValueError, match="Resize & Crop"):
        run_node(node_classes["ScailPoseRetarget3D"], poses=drv, reference=ref_small)


def test_smooth_reduces_jitter(node_classes, poses3d):
    from dataclasses import replace

    rng = np.random.default_rng(7)
    base = poses3d.frames[0]
    n = 48
    t = np.arange(n, dtype=np.float32)[:, None, None]
    motion = base.pose3d.joints_mm[0][None] + np.float32(8.0) * t * np.array([1, 0, 0], np.float32)
    noisy = motion + rng.normal(0.0, 25.0, motion.shape).astype(np.float32)
    frames = tuple(replace(base, pose3d=replace(base.pose3d, joints_mm=noisy[i : i + 1]))
                   for i in range(n))  # fmt: skip
    seq = replace(poses3d, frames=frames)
    out = run_node(node_classes["ScailPoseSmoothPoses"], poses=seq)[0]
    smooth = np.stack([f.pose3d.joints_mm[0] for f in out.frames])

    def jitter(x):  # mean |second difference| over time, mm
        return float(np.abs(np.diff(x, n=2, axis=0)).mean())

    assert len(out) == n
    assert jitter(smooth) < 0.5 * jitter(noisy)
    # smoothing follows the motion instead of flattening it
    err_in = np.abs(noisy - motion).mean()
    assert np.abs(smooth[4:-4] - motion[4:-4]).mean() < err_in


def test_render_contract_sizes_4n1_mask_and_preview(node_classes, poses3d):
    import folder_paths

    render = node_classes["ScailPoseRenderSkeleton"]
    out = run_node(render, poses=poses3d, output_size="half", frames_4n1="trim")
    images, mask, count = out[0], out[1], out[2]
    assert count == 5 and tuple(images.shape) == (5, 128, 224, 3) and images.dtype == torch.float32
    assert tuple(mask.shape) == (5, 128, 224)
    assert float(images.max()) <= 1.0 and float(images.mean()) > 0.005  # something drawn
    flat = run_node(render, poses=poses3d, output_size="full", draw_2d=False)
    lit = flat[0].amax(dim=-1) > 0  # without the 2D overlay, the mask is exactly what was drawn
    assert bool(((flat[1] > 0) == lit).all()) and int(lit.sum()) > 500
    previews = out.ui.as_dict()["images"]
    assert previews and (Path(folder_paths.get_temp_directory()) / previews[0]["filename"]).exists()
    full = run_node(render, poses=poses3d, output_size="full", frames_4n1="pad", width=448,
                    height=256)  # fmt: skip
    assert tuple(full[0].shape) == (5, 256, 448, 3) and full[2] == 5
    with pytest.raises(ValidationError, match="multiple of 32"):
        run_node(render, poses=poses3d, width=450)
    with pytest.raises(ValueError, match="Resize & Crop"):
        run_node(render, poses=poses3d, width=512, height=256)


def test_preview3d_sends_the_sequence_to_the_viewer(node_classes, poses3d):
    out = run_node(node_classes["ScailPosePreview3D"], poses=poses3d)
    payload = out.ui["scail_pose_preview"][0]
    json.dumps(payload)
    assert len(payload["frames"]) == T and payload["size_hw"] == list(FRAME_HW)
    assert len(payload["frames"][0][0][1]) == 72 and len(payload["bones"]) == 13


def test_pose_keypoint_round_trip(node_classes, poses2d):
    kp = run_node(node_classes["ScailPoseToPoseKeypoint"], poses=poses2d)[0]
    assert kp[0]["canvas_width"] == FRAME_HW[1] and len(kp[0]["people"]) == 1
    back = run_node(node_classes["ScailPoseFromPoseKeypoint"], pose_keypoint=kp)[0]
    assert len(back) == T and back.size_hw == FRAME_HW
    a, b = poses2d.frames[0].pose2d, back.frames[0].pose2d
    vis = a.body_scores[0, :18] > 0.3
    np.testing.assert_allclose(a.body_norm[0, :18][vis], b.body_norm[0, :18][vis], atol=2e-3)


def test_save_load_export_stay_in_the_output_folder(node_classes, poses3d):
    import folder_paths

    out_dir = Path(folder_paths.get_output_directory()).resolve()
    saved = run_node(node_classes["ScailPoseSavePoses"], poses=poses3d, format="npz")
    rel = saved.ui["text"][0]
    assert (out_dir / rel).is_file() and rel.startswith("scail_pose/")
    run_node(node_classes["ScailPoseSavePoses"], poses=poses3d, filename_prefix="a/b")
    for bad in ("../escape", "/tmp/abs", "x/../../escape"):
        with pytest.raises(ValueError, match="outside"):
            run_node(node_classes["ScailPoseSavePoses"], poses=poses3d, filename_prefix=bad)
    load = node_classes["ScailPoseLoadPoses"]
    files = {i.id: i for i in load.GET_SCHEMA().inputs}["file"].options
    assert rel in files and "a/b_00001.json" not in files  # only output/scail_pose/ is listed
    back = run_node(load, file=rel)[0]
    assert len(back) == T
    np.testing.assert_allclose(back.frames[2].pose3d.joints_mm, poses3d.frames[2].pose3d.joints_mm)
    with pytest.raises(ValueError, match="output folder"):
        load.execute(file="../../etc/passwd")
    glb = run_node(node_classes["ScailPoseExportGLB"], poses=poses3d)
    path = out_dir / glb.ui["text"][0]
    assert path.suffix == ".glb" and path.read_bytes()[:4] == b"glTF"


def test_external_masks_give_characters_with_identities(node_classes, models, video, poses2d):
    h, w = FRAME_HW
    m = torch.zeros((T, h, w))
    x1, y1, x2, y2 = (int(v) for v in PERSON_BOX)
    m[:, y1:y2, x1:x2] = 1.0
    seg = run_node(node_classes["ScailPoseSAM2SegmentCharacters"], images=video, poses=poses2d,
                   external_mask_1=m)  # fmt: skip
    masks, union = seg[0], seg[1]
    assert masks.num_characters == 1 and tuple(union.shape) == (T, h, w)
    assert bool((union == m).all())
    out = run_node(node_classes["ScailPoseNLF3DLift"], nlf_model=models[1], images=video,
                   poses=poses2d, character_masks=masks)[0]  # fmt: skip
    assert all(int(f.pose3d.track_ids[0]) == 0 and bool(f.pose3d.present[0]) for f in out.frames)
    with pytest.raises(ValueError, match="SAM2 model"):
        run_node(node_classes["ScailPoseSAM2SegmentCharacters"], images=video, poses=poses2d)


def test_one_shot_pipeline_node(node_classes, models, video):
    out = run_node(node_classes["ScailPoseExtractSinglePerson"], video=video,
                   dwpose_model=models[0], nlf_model=models[1], reference_image=video[:1],
                   retarget="camera_fit", short_side=256, long_side=448, output_size="half",
                   frames_4n1="trim")  # fmt: skip
    images, mask, count, seq = out[0], out[1], out[2], out[3]
    assert count == 5 and tuple(images.shape) == (5, 128, 224, 3) and len(seq) == T
    assert float(images.mean()) > 0.005 and tuple(mask.shape) == (5, 128, 224)


def test_progress_bar_and_cancel(node_classes, models, video, comfy_kind):
    if comfy_kind != "fake":
        pytest.skip("inspects the stand-in's progress records")
    import comfy.model_management as mm
    import comfy.utils

    comfy.utils.UPDATES.clear()
    run_node(node_classes["ScailPoseDWPoseDetect"], dwpose_model=models[0], images=video)
    assert comfy.utils.UPDATES and comfy.utils.UPDATES[-1] == (T, T)
    mm.interrupt_current_processing(True)
    try:
        with pytest.raises(mm.InterruptProcessingException):
            run_node(node_classes["ScailPoseDWPoseDetect"], dwpose_model=models[0], images=video)
    finally:
        mm.interrupt_current_processing(False)


def test_detect_shows_boxes_and_2d_on_the_input_frames(node_classes, models, video):
    import folder_paths
    from PIL import Image

    out = run_node(node_classes["ScailPoseDWPoseDetect"], dwpose_model=models[0], images=video)
    shown = out.ui.as_dict()["images"]
    assert 1 <= len(shown) <= 4
    img = np.asarray(Image.open(Path(folder_paths.get_temp_directory()) / shown[0]["filename"]))
    x1, y1, x2, y2 = (int(round(v)) for v in PERSON_BOX)
    assert (img[y1, x1 + 5 : x2 - 5] == 255).all()  # the box edge is drawn on the frame
    assert img.shape[:2] == FRAME_HW
