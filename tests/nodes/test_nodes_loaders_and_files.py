"""Model loaders (a replaced file is loaded afresh, one model per kind kept) and the pose-file
listing of Load Pose Sequence (our own files in output/scail_pose/ only)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from comfy_nodes_support import run_node


@pytest.fixture
def loaders(node_classes, standin_models):
    """The loaders module, its cache restored afterwards (other tests rely on their models)."""
    mod = sys.modules[node_classes["ScailPoseLoadNLF"].__module__]
    saved = dict(mod._CACHE)
    yield mod
    mod._CACHE.clear()
    mod._CACHE.update(saved)


def _kinds(cache: dict) -> list[str]:
    return [k if isinstance(k, str) else k[0] for k in cache]


def test_replaced_model_file_is_loaded_afresh(node_classes, loaders):
    import folder_paths

    load = node_classes["ScailPoseLoadNLF"]
    nlf_dir = Path(folder_paths.models_dir) / "nlf"
    src = nlf_dir / "nlf_l_multi_0.3.2.torchscript"
    alt = nlf_dir / "nlf_replaced_test.torchscript"
    shutil.copyfile(src, alt)
    try:
        fp1 = load.fingerprint_inputs(model_file=alt.name, device="cpu", download_if_missing=False)
        first = run_node(load, model_file=alt.name, device="cpu")[0]
        assert run_node(load, model_file=alt.name, device="cpu")[0] is first  # reused
        # Replace the file (new content and a later modification time): ComfyUI re-runs the
        # node because the fingerprint changed, and the node must not hand back the old model.
        alt.write_bytes(src.read_bytes() + b"\0" * 16)
        st = alt.stat()
        os.utime(alt, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
        fp2 = load.fingerprint_inputs(model_file=alt.name, device="cpu", download_if_missing=False)
        assert fp2 != fp1
        second = run_node(load, model_file=alt.name, device="cpu")[0]
        assert second is not first and second.model is not first.model
    finally:
        alt.unlink(missing_ok=True)


def test_cache_keeps_at_most_one_model_per_kind(node_classes, loaders):
    import folder_paths

    nlf_dir = Path(folder_paths.models_dir) / "nlf"
    det_dir = Path(folder_paths.models_dir) / "detection"
    copies = [nlf_dir / "nlf_copy_a.torchscript", nlf_dir / "nlf_copy_b.torchscript"]
    for c in copies:
        shutil.copyfile(nlf_dir / "nlf_l_multi_0.3.2.torchscript", c)
    pose_copy = det_dir / "dwpose_copy_test.onnx"
    shutil.copyfile(det_dir / "dw-ll_ucoco_384.onnx", pose_copy)
    try:
        for c in copies:
            run_node(node_classes["ScailPoseLoadNLF"], model_file=c.name, device="cpu")
        run_node(node_classes["ScailPoseLoadDWPose"], provider="CPU")
        run_node(node_classes["ScailPoseLoadDWPose"], pose_file=pose_copy.name, provider="CPU")
        run_node(node_classes["ScailPoseLoadDWPose"], pose_file=pose_copy.name, provider="auto")
        kinds = _kinds(loaders._CACHE)
        assert kinds.count("nlf") == 1 and kinds.count("dwpose") == 1 and len(kinds) <= 3
        # the one kept is the latest: loading it again gives the same object
        last = run_node(node_classes["ScailPoseLoadNLF"], model_file=copies[1].name,
                        device="cpu")[0]  # fmt: skip
        assert run_node(node_classes["ScailPoseLoadNLF"], model_file=copies[1].name,
                        device="cpu")[0] is last  # fmt: skip
    finally:
        for c in [*copies, pose_copy]:
            c.unlink(missing_ok=True)


def test_load_poses_lists_only_saved_sequences_in_the_pack_folder(node_classes):
    """/object_info lists our files in output/scail_pose/ only: no saved workflows, no other
    packs' JSON, nothing outside the subfolder, bounded depth and count."""
    import folder_paths

    files_mod = sys.modules[node_classes["ScailPoseLoadPoses"].__module__.replace(
        ".formats", "._files")]  # fmt: skip
    out = Path(folder_paths.get_output_directory())
    planted = {
        "scail_pose/run_00007.json": True,
        "scail_pose/sub/dance_00001.npz": True,
        "scail_pose/workflow.json": False,  # a saved workflow
        "scail_pose/notes_1.json": False,
        "scail_pose/a/b/c/d/deep_00001.json": False,  # deeper than MAX_DEPTH
        "elsewhere_00001.json": False,  # outside the pack's folder
        "other_pack/pose_00001.json": False,
    }
    for rel in planted:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text("{}")
    try:
        listed = node_classes["ScailPoseLoadPoses"].GET_SCHEMA().inputs[0].options
        for rel, want in planted.items():
            assert (rel in listed) == want, rel
        assert all(f.startswith("scail_pose/") for f in listed)
        old = files_mod.MAX_LISTED
        files_mod.MAX_LISTED = 1
        try:
            assert len(files_mod.list_pose_files()) == 1
        finally:
            files_mod.MAX_LISTED = old
    finally:
        for rel in planted:
            (out / rel).unlink(missing_ok=True)
