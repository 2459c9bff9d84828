"""The shipped example workflows: valid against the node schemas, in sync with their API twins,
with thumbnails, and the twins run end to end in process with stand-in models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from comfy_nodes_support import FRAME_HW, PERSON_BOX, build_standin_models, figure_frames
from comfy_nodes_support import validate_widgets as check_widgets
from graph_runner import run_prompt
from workflow_builder import (
    EXAMPLES,
    FOREIGN,
    PEER_NODES,
    TWINS,
    TWO_PEOPLE_DETECTOR,
    WORKFLOWS,
    build_twin,
    build_ui,
    node_io,
    ui_to_api,
)

T = 5
BOX_B = (300.0, 40.0, 390.0, 230.0)
NAMES = sorted(WORKFLOWS)


@pytest.fixture(scope="module")
def graph_models(node_classes):
    """One-person stand-ins (real file names) plus a YOLOX stand-in that finds two people."""
    import folder_paths
    from standin_onnx import build_yolox_standin

    from scail_pose_core.detection.yolox import letterbox_ratio

    models = Path(folder_paths.models_dir)
    build_standin_models(models)
    r, _ = letterbox_ratio(FRAME_HW)
    build_yolox_standin(models / "detection" / TWO_PEOPLE_DETECTOR,
                        [[v * r for v in b] for b in (PERSON_BOX, BOX_B)], dynamic_batch=True)  # fmt: skip


def _inputs():
    one = figure_frames(T)
    two = np.maximum(one, figure_frames(T, box=BOX_B))
    mask_a = np.zeros_like(one)
    mask_b = np.zeros_like(one)
    for m, (x1, y1, x2, y2) in ((mask_a, PERSON_BOX), (mask_b, BOX_B)):
        m[:, int(y1) : int(y2), int(x1) : int(x2)] = 255
    videos = {"dance.mp4": one, "mask_a.mp4": mask_a, "mask_b.mp4": mask_b}
    return videos, {"reference.png": one[0]}, two


def _ui(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


@pytest.mark.parametrize("name", NAMES)
def test_example_is_valid_against_the_schemas(name, node_classes):
    ui = _ui(name)
    links = {lk[0]: lk for lk in ui["links"]}
    by_id = {n["id"]: n for n in ui["nodes"]}
    for node in ui["nodes"]:
        t = node["type"]
        assert t in node_classes or t in FOREIGN, f"unknown node type {t}"
        ins, _ = node_io(t, node_classes)
        widgets = [i for i in ins if i[2] in ("widget", "ui")]
        assert len(node["widgets_values"]) == len(widgets), (name, t)
        if t in node_classes:  # the load-time widget values pass ComfyUI's checks
            values = dict(zip([w[0] for w in widgets], node["widgets_values"], strict=True))
            check_widgets(node_classes[t], values, require_sockets=False)
        for inp in node["inputs"]:
            if inp["link"] is None:
                continue
            lk = links[inp["link"]]
            src_outs = node_io(by_id[lk[1]]["type"], node_classes)[1]
            want = [i for i in ins if i[0] == inp["name"]][0][1]
            assert src_outs[lk[2]][1] == want == lk[5], (name, t, inp["name"])
    for n in ui["nodes"]:  # required sockets of our nodes are connected
        if n["type"] in node_classes:
            for name_, _typ, kind, _d, optional in node_io(n["type"], node_classes)[0]:
                if kind == "socket" and not optional:
                    assert any(i["name"] == name_ and i["link"] for i in n["inputs"]), name_


@pytest.mark.parametrize("name", NAMES)
def test_example_links_point_at_the_right_slots(name):
    """What ComfyUI's frontend checks on load (validateWorkflow/fixBadLinks): a link's target slot
    indexes the target's ``inputs`` array (sockets + linked widgets only), its origin slot the
    source's ``outputs``; both ends name the link and agree on its type. Every input/output link
    id is a link of the graph."""
    ui = _ui(name)
    by_id = {n["id"]: n for n in ui["nodes"]}
    link_ids = {lk[0] for lk in ui["links"]}
    assert len(link_ids) == len(ui["links"]) and ui["last_link_id"] == max(link_ids)
    for lk in ui["links"]:
        link_id, src_id, src_slot, dst_id, dst_slot, typ = lk
        source, target = by_id[src_id], by_id[dst_id]
        assert 0 <= dst_slot < len(target["inputs"]), (name, lk)
        assert 0 <= src_slot < len(source["outputs"]), (name, lk)
        inp, out = target["inputs"][dst_slot], source["outputs"][src_slot]
        assert inp["link"] == link_id, (name, lk, inp)
        assert link_id in out["links"], (name, lk, out)
        assert inp["type"] == out["type"] == typ, (name, lk)
    for n in ui["nodes"]:
        for inp in n["inputs"]:
            assert inp["link"] is None or inp["link"] in link_ids, (name, n["id"], inp)
        for k, out in enumerate(n["outputs"]):
            assert out["slot_index"] == k
            assert all(lid in link_ids for lid in out["links"]), (name, n["id"], out)
    n_in = sum(i["link"] is not None for n in ui["nodes"] for i in n["inputs"])
    n_out = sum(len(o["links"]) for n in ui["nodes"] for o in n["outputs"])
    assert n_in == n_out == len(link_ids)


def test_ui_inputs_hold_sockets_and_only_the_linked_widgets(node_classes):
    """A widget appears in ``inputs`` (with ``widget.name``) only when it is linked; sockets
    always, in schema order (WanSCAILToVideo.length is linked, width is not)."""
    ui = _ui("06_core_wan_scail_to_video")
    scail = next(n for n in ui["nodes"] if n["type"] == "WanSCAILToVideo")
    names = [i["name"] for i in scail["inputs"]]
    assert names == ["positive", "negative", "vae", "length", "pose_video", "pose_video_mask",
                     "reference_image", "reference_image_mask", "clip_vision_output",
                     "previous_frames"]  # fmt: skip
    assert [i["name"] for i in scail["inputs"] if "widget" in i] == ["length"]
    assert scail["inputs"][3] == {"name": "length", "type": "INT", "widget": {"name": "length"},
                                  "link": scail["inputs"][3]["link"]}  # fmt: skip
    assert scail["inputs"][3]["link"] is not None


@pytest.mark.parametrize("name", NAMES)
def test_example_files_match_the_builder_and_have_thumbnails(name, node_classes):
    ui = _ui(name)
    assert ui == json.loads(json.dumps(build_ui(WORKFLOWS[name], node_classes)))
    twin = json.loads((TWINS / f"{name}.api.json").read_text())
    assert twin == json.loads(json.dumps(build_twin(name, ui, node_classes)))
    api = ui_to_api(ui, node_classes)  # the twin is the template with small inputs only
    assert {k: v["class_type"] for k, v in api.items()} == {
        k: v["class_type"] for k, v in twin.items()
    }
    thumb = EXAMPLES / f"{name}.jpg"
    assert thumb.is_file() and thumb.read_bytes()[:2] == b"\xff\xd8"


def test_peer_chains_use_the_exact_sampler_input_names(node_classes):
    wvw = ui_to_api(_ui("05_wanvideowrapper_scail_pose_embeds"), node_classes)
    embeds = next(v for v in wvw.values() if v["class_type"] == "WanVideoAddSCAILPoseEmbeds")
    empty = next(v for v in wvw.values() if v["class_type"] == "WanVideoEmptyEmbeds")
    one_shot = next(k for k, v in wvw.items() if v["class_type"] == "ScailPoseExtractSinglePerson")
    assert embeds["inputs"]["pose_images"] == [one_shot, 0]
    assert empty["inputs"]["num_frames"] == [one_shot, 2]
    assert wvw[one_shot]["inputs"]["output_size"] == "half"
    assert wvw[one_shot]["inputs"]["frames_4n1"] == "trim"
    core = ui_to_api(_ui("06_core_wan_scail_to_video"), node_classes)
    scail = next(v for v in core.values() if v["class_type"] == "WanSCAILToVideo")
    one_shot = next(k for k, v in core.items() if v["class_type"] == "ScailPoseExtractSinglePerson")
    assert scail["inputs"]["pose_video"] == [one_shot, 0]
    assert scail["inputs"]["length"] == [one_shot, 2]


def _run(name, node_classes, patch=None, videos_override=None):
    videos, images, two = _inputs()
    if videos_override:
        videos = {**videos, **videos_override(two)}
    twin = json.loads((TWINS / f"{name}.api.json").read_text())
    return run_prompt(twin, node_classes, videos, images, PEER_NODES, patch)


@pytest.mark.parametrize("name", ["01_single_person", "02_single_person_retarget"])
def test_single_person_graphs_run_end_to_end(name, node_classes, graph_models):
    res = _run(name, node_classes)
    render = res.saved["41"]
    assert tuple(render.shape) == (5, *FRAME_HW, 3) and float(render.mean()) > 0.005
    payload = res.ui["42"]["scail_pose_preview"][0]
    assert len(payload["frames"]) == T and len(payload["characters"]) == 1
    assert res.ui["43"]["text"][0].startswith("scail_pose/")


def test_single_person_graph_on_two_people_draws_both_in_2d_and_lifts_one(node_classes,
                                                                          graph_models):  # fmt: skip
    """Reference §1.4 (no alignment): 2D of every DWPose person, 3D of person 0 only."""
    videos, images, two = _inputs()
    twin = json.loads((TWINS / "01_single_person.api.json").read_text())
    for node in twin.values():
        if node["class_type"] == "ScailPoseLoadDWPose":
            node["inputs"]["detector_file"] = TWO_PEOPLE_DETECTOR
    res = run_prompt(twin, node_classes, {**videos, "dance.mp4": two}, images, PEER_NODES)
    poses2d, poses3d = res.outputs["21"][0], res.outputs["22"][0]
    for f2, f3 in zip(poses2d.frames, poses3d.frames, strict=True):
        assert len(f2.detections) == 2 and f2.pose2d.num_people == 2
        assert f3.pose2d.num_people == 2  # every person's 2D is kept for the overlay
        assert f3.pose3d.num_people == 1 and bool(f3.pose3d.present[0])
        u = poses3d.camera.project(f3.pose3d.joints_mm[0, :1])[0][0]  # pelvis in box 0
        box = f2.detections.boxes_xyxy[0]
        assert box[0] <= u <= box[2]
    payload = res.ui["42"]["scail_pose_preview"][0]
    assert len(payload["characters"]) == 1
    assert float(res.saved["41"].mean()) > 0.005


def test_external_mask_graph_runs_with_two_characters(node_classes, graph_models):
    res = _run("04_multi_character_external_masks", node_classes,
               videos_override=lambda two: {"dance.mp4": two})  # fmt: skip
    payload = res.ui["42"]["scail_pose_preview"][0]
    assert [c["id"] for c in payload["characters"]] == [0, 1]
    assert all(len(f) == 2 for f in payload["frames"])
    assert float(res.saved["41"].mean()) > 0.005


@pytest.mark.slow
def test_sam2_graph_runs(node_classes, graph_models):
    """SAM2 with random tiny weights (the loader is patched: no checkpoint can be had here)."""
    from standin_sam2 import require_sam2

    require_sam2()
    from comfy_nodes_support import run_node

    pack_seg = __import__(
        next(iter(node_classes.values())).__module__.split(".nodes")[0]
        + ".scail_pose_core.segment",
        fromlist=["Sam2Segmenter"],
    )
    handle_cls = type(run_node(node_classes["ScailPoseLoadNLF"], device="cpu")[0])
    seg = pack_seg.Sam2Segmenter.random_weights("tiny", image_size=256, device="cpu", seed=0)

    def load_sam2(**_):
        return (handle_cls(seg, "random-tiny", "cpu"),)

    res = _run("03_multi_character_sam2", node_classes, patch={"ScailPoseLoadSAM2": load_sam2},
               videos_override=lambda two: {"dance.mp4": two})  # fmt: skip
    masks = res.outputs["23"][0]
    assert masks.num_characters == 2 and masks.num_frames == T
    assert tuple(res.saved["41"].shape) == (T, *FRAME_HW, 3)


@pytest.mark.parametrize(
    "name,size",
    [("05_wanvideowrapper_scail_pose_embeds", "half"), ("06_core_wan_scail_to_video", "full")],
)
def test_sampler_chains_deliver_the_contract(name, size, node_classes, graph_models):
    res = _run(name, node_classes)
    peer = res.peers["51" if size == "half" else "60"]
    pose = peer["pose_images" if size == "half" else "pose_video"]
    h, w = FRAME_HW if size == "full" else (FRAME_HW[0] // 2, FRAME_HW[1] // 2)
    assert isinstance(pose, torch.Tensor) and pose.dtype == torch.float32
    assert tuple(pose.shape) == (5, h, w, 3) and (pose.shape[0] - 1) % 4 == 0
    count = res.peers["50"]["num_frames"] if size == "half" else peer["length"]
    assert count == pose.shape[0]
