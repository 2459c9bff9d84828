"""One description per example graph -> the UI-format template (example_workflows/) and its
API-format twin (tests/graph/*.api.json), so the two cannot drift apart.

Run ``python tests/graph/workflow_builder.py`` (from the repo root, with /work/venv) to rewrite
both after changing a spec or a node schema (existing thumbnails are kept unless
``--thumbnails`` is given); ``test_graph_workflows.py`` checks the committed
files against this module and the node schemas.

Widget values of our nodes are read from the schemas (defaults) unless a spec sets them. Nodes
of ComfyUI core and of WanVideoWrapper are described in :data:`FOREIGN` with their exact input
names (users_and_peers.md §(b)).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "example_workflows"
TWINS = Path(__file__).resolve().parent

W, S = "widget", "socket"
#: Foreign node types: inputs (name, type, kind, default) in widget order; outputs (name, type).
FOREIGN: dict[str, dict] = {
    "LoadVideo": {"inputs": [("file", "COMBO", W, "dance.mp4")], "outputs": [("VIDEO", "VIDEO")]},
    "GetVideoComponents": {
        "inputs": [("video", "VIDEO", S, None)],
        "outputs": [("images", "IMAGE"), ("audio", "AUDIO"), ("fps", "FLOAT")],
    },
    "LoadImage": {
        "inputs": [
            ("image", "COMBO", W, "reference.png"),
            ("upload", "IMAGEUPLOAD", "ui", "image"),
        ],
        "outputs": [("IMAGE", "IMAGE"), ("MASK", "MASK")],
    },
    "ImageToMask": {
        "inputs": [("image", "IMAGE", S, None), ("channel", "COMBO", W, "red")],
        "outputs": [("MASK", "MASK")],
    },
    "PreviewImage": {"inputs": [("images", "IMAGE", S, None)], "outputs": []},
    "SaveImage": {
        "inputs": [("images", "IMAGE", S, None), ("filename_prefix", "STRING", W, "scail_pose")],
        "outputs": [],
    },
    "WanVideoEmptyEmbeds": {
        "inputs": [
            ("width", "INT", W, 832),
            ("height", "INT", W, 480),
            ("num_frames", "INT", W, 81),
            ("control_embeds", "WANVIDIMAGE_EMBEDS", S, None),
            ("extra_latents", "LATENT", S, None),
        ],
        "outputs": [("image_embeds", "WANVIDIMAGE_EMBEDS")],
    },  # fmt: skip
    "WanVideoAddSCAILPoseEmbeds": {
        "inputs": [
            ("embeds", "WANVIDIMAGE_EMBEDS", S, None),
            ("vae", "WANVAE", S, None),
            ("pose_images", "IMAGE", S, None),
            ("strength", "FLOAT", W, 1.0),
            ("start_percent", "FLOAT", W, 0.0),
            ("end_percent", "FLOAT", W, 1.0),
        ],
        "outputs": [("image_embeds", "WANVIDIMAGE_EMBEDS")],
    },  # fmt: skip
    "WanSCAILToVideo": {
        "inputs": [
            ("positive", "CONDITIONING", S, None),
            ("negative", "CONDITIONING", S, None),
            ("vae", "VAE", S, None),
            ("width", "INT", W, 512),
            ("height", "INT", W, 896),
            ("length", "INT", W, 81),
            ("batch_size", "INT", W, 1),
            ("pose_video", "IMAGE", S, None),
            ("pose_video_mask", "IMAGE", S, None),
            ("replacement_mode", "BOOLEAN", W, False),
            ("pose_strength", "FLOAT", W, 1.0),
            ("pose_start", "FLOAT", W, 0.0),
            ("pose_end", "FLOAT", W, 1.0),
            ("reference_image", "IMAGE", S, None),
            ("reference_image_mask", "IMAGE", S, None),
            ("clip_vision_output", "CLIP_VISION_OUTPUT", S, None),
            ("video_frame_offset", "INT", W, 0),
            ("previous_frame_count", "INT", W, 5),
            ("previous_frames", "IMAGE", S, None),
        ],
        "outputs": [
            ("positive", "CONDITIONING"),
            ("negative", "CONDITIONING"),
            ("latent", "LATENT"),
            ("video_frame_offset", "INT"),
        ],
    },  # fmt: skip
    "Note": {"inputs": [("text", "STRING", W, "")], "outputs": []},
}


def _loaders(x=0, y=0) -> list[dict]:
    return [
        {"id": 1, "type": "ScailPoseLoadDWPose", "pos": [x, y]},
        {"id": 2, "type": "ScailPoseLoadNLF", "pos": [x, y + 190]},
    ]


def _video(first_id=10, y=380) -> list[dict]:
    return [
        {"id": first_id, "type": "LoadVideo", "pos": [0, y]},
        {"id": first_id + 1, "type": "GetVideoComponents", "pos": [0, y + 330],
         "inputs": {"video": (first_id, "VIDEO")}},
    ]  # fmt: skip


def _resize(node_id, images, pos, match_to=None) -> dict:
    node = {"id": node_id, "type": "ScailPoseResizeCrop", "pos": pos, "inputs": {"images": images}}
    if match_to is not None:
        node["inputs"]["match_to"] = match_to
    return node


def _note(node_id, text, pos) -> dict:
    return {"id": node_id, "type": "Note", "pos": pos, "widgets": {"text": text}}


def _single(retarget: bool) -> list[dict]:
    nodes = [*_loaders(), *_video(), _resize(20, (11, "images"), [360, 380])]
    # Reference single-person job (reference_spec.md §1.4): without alignment every person's
    # 2D face/hands overlay is drawn while only person 0 (box 0) is lifted and rendered in 3D;
    # with alignment only person 0 is kept in both (§6.4 recollect).
    nodes += [
        {"id": 21, "type": "ScailPoseDWPoseDetect", "pos": [720, 0],
         "widgets": {"people": "first" if retarget else "all"},
         "inputs": {"dwpose_model": (1, "dwpose_model"), "images": (20, "resized")}},
        {"id": 22, "type": "ScailPoseNLF3DLift", "pos": [1080, 0],
         "widgets": {"people_3d": "first"},
         "inputs": {"nlf_model": (2, "nlf_model"), "images": (20, "resized"),
                    "poses": (21, "poses")}},
    ]  # fmt: skip
    last = (22, "poses_3d")
    if retarget:
        nodes += [
            {"id": 30, "type": "LoadImage", "pos": [0, 800]},
            _resize(31, (30, "IMAGE"), [360, 800], match_to=(20, "resized")),
            {"id": 32, "type": "ScailPoseDWPoseDetect", "pos": [720, 700],
             "widgets": {"people": "first"},
             "inputs": {"dwpose_model": (1, "dwpose_model"), "images": (31, "resized")}},
            {"id": 33, "type": "ScailPoseNLF3DLift", "pos": [1080, 700],
             "inputs": {"nlf_model": (2, "nlf_model"), "images": (31, "resized"),
                        "poses": (32, "poses")}},
            {"id": 34, "type": "ScailPoseRetarget3D", "pos": [1440, 300],
             "widgets": {"mode": "camera_fit"},
             "inputs": {"poses": last, "reference": (33, "poses_3d")}},
            {"id": 35, "type": "ScailPoseSmoothPoses", "pos": [1440, 560],
             "inputs": {"poses": (34, "retargeted")}},
        ]  # fmt: skip
        last = (35, "smoothed")
    nodes += [
        {"id": 40, "type": "ScailPoseRenderSkeleton", "pos": [1800, 0],
         "widgets": {"output_size": "full", "frames_4n1": "trim"}, "inputs": {"poses": last}},
        {"id": 41, "type": "SaveImage", "pos": [2160, 0], "inputs": {"images": (40, "images")},
         "widgets": {"filename_prefix": "scail_pose/render"}},
        {"id": 42, "type": "ScailPosePreview3D", "pos": [1800, 420], "inputs": {"poses": last}},
        {"id": 43, "type": "ScailPoseSavePoses", "pos": [1800, 860], "inputs": {"poses": last}},
    ]  # fmt: skip
    return nodes


def _multi(external: bool) -> list[dict]:
    nodes = [*_loaders(), *_video()]
    seg_inputs = {"images": (11, "images"), "poses": (21, "poses")}
    if external:
        nodes += [
            {"id": 12, "type": "LoadVideo", "pos": [0, 1100], "widgets": {"file": "mask_a.mp4"}},
            {"id": 13, "type": "GetVideoComponents", "pos": [0, 1430],
             "inputs": {"video": (12, "VIDEO")}},
            {"id": 14, "type": "ImageToMask", "pos": [360, 1100],
             "inputs": {"image": (13, "images")}},
            {"id": 15, "type": "LoadVideo", "pos": [0, 1650], "widgets": {"file": "mask_b.mp4"}},
            {"id": 16, "type": "GetVideoComponents", "pos": [0, 1980],
             "inputs": {"video": (15, "VIDEO")}},
            {"id": 17, "type": "ImageToMask", "pos": [360, 1650],
             "inputs": {"image": (16, "images")}},
            _note(18, "Bring one mask video per character (e.g. from SAM3 / other "
                      "segmentation nodes): white = the character. The order of the "
                      "external_mask inputs is the character order (palette).", [360, 1900]),
        ]  # fmt: skip
        seg_inputs |= {"external_mask_1": (14, "MASK"), "external_mask_2": (17, "MASK")}
    else:
        nodes.append({"id": 3, "type": "ScailPoseLoadSAM2", "pos": [0, 1100]})
        seg_inputs["sam2_model"] = (3, "sam2_model")
    nodes += [
        {"id": 21, "type": "ScailPoseDWPoseDetect", "pos": [720, 0],
         "inputs": {"dwpose_model": (1, "dwpose_model"), "images": (11, "images")}},
        {"id": 23, "type": "ScailPoseSAM2SegmentCharacters", "pos": [720, 420],
         "inputs": seg_inputs},
        {"id": 22, "type": "ScailPoseNLF3DLift", "pos": [1080, 0],
         "widgets": {"people_3d": "all"},
         "inputs": {"nlf_model": (2, "nlf_model"), "images": (11, "images"),
                    "poses": (21, "poses"), "character_masks": (23, "character_masks")}},
        {"id": 40, "type": "ScailPoseRenderSkeleton", "pos": [1440, 0],
         "widgets": {"output_size": "full"}, "inputs": {"poses": (22, "poses_3d")}},
        {"id": 41, "type": "SaveImage", "pos": [1800, 0], "inputs": {"images": (40, "images")},
         "widgets": {"filename_prefix": "scail_pose/multi"}},
        {"id": 42, "type": "ScailPosePreview3D", "pos": [1440, 420],
         "inputs": {"poses": (22, "poses_3d")}},
    ]  # fmt: skip
    return nodes


def _one_shot(output_size: str) -> list[dict]:
    return [
        *_loaders(),
        *_video(),
        {"id": 30, "type": "LoadImage", "pos": [0, 800]},
        {"id": 24, "type": "ScailPoseExtractSinglePerson", "pos": [400, 0],
         "widgets": {"retarget": "camera_fit", "output_size": output_size, "frames_4n1": "trim"},
         "inputs": {"video": (11, "images"), "dwpose_model": (1, "dwpose_model"),
                    "nlf_model": (2, "nlf_model"), "reference_image": (30, "IMAGE")}},
        {"id": 42, "type": "ScailPosePreview3D", "pos": [800, 560],
         "inputs": {"poses": (24, "poses")}},
    ]  # fmt: skip


def _wvw() -> list[dict]:
    return [
        *_one_shot("half"),
        {"id": 50, "type": "WanVideoEmptyEmbeds", "pos": [800, 0],
         "widgets": {"width": 896, "height": 512},
         "inputs": {"num_frames": (24, "frame_count")}},
        {"id": 51, "type": "WanVideoAddSCAILPoseEmbeds", "pos": [1160, 0],
         "inputs": {"embeds": (50, "image_embeds"), "pose_images": (24, "images")}},
        {"id": 52, "type": "PreviewImage", "pos": [1160, 360], "inputs": {"images": (24, "images")}},
        _note(53, "WanVideoWrapper SCAIL chain: WanVideoEmptyEmbeds (generation width/height, "
                  "multiples of 32; num_frames = frame_count, 4n+1) -> WanVideoAddSCAILReferenceEmbeds "
                  "(ref_image) -> WanVideoAddSCAILPoseEmbeds (pose_images at HALF the generation "
                  "size: output_size = half) -> WanVideoSamplerv2.image_embeds. Connect the Wan VAE "
                  "(WanVideoVAELoader) to vae; see WanVideoWrapper's SCAIL example for the model "
                  "loaders and sampler. For a portrait video swap width and height.", [1520, 0]),
    ]  # fmt: skip


def _core_scail() -> list[dict]:
    return [
        *_one_shot("full"),
        {"id": 60, "type": "WanSCAILToVideo", "pos": [800, 0],
         "widgets": {"width": 896, "height": 512},
         "inputs": {"length": (24, "frame_count"), "pose_video": (24, "images"),
                    "reference_image": (30, "IMAGE")}},
        {"id": 52, "type": "PreviewImage", "pos": [1160, 360], "inputs": {"images": (24, "images")}},
        _note(61, "Core WanSCAILToVideo (experimental): pose_video may be full size (it "
                  "downsamples to width/2 x height/2 itself) and is floored to 4n+1; length = "
                  "frame_count. Connect positive/negative (CLIP Text Encode), the Wan VAE, and "
                  "the outputs to KSampler.", [1160, 0]),
    ]  # fmt: skip


WORKFLOWS: dict[str, list[dict]] = {
    "01_single_person": _single(False),
    "02_single_person_retarget": _single(True),
    "03_multi_character_sam2": _multi(False),
    "04_multi_character_external_masks": _multi(True),
    "05_wanvideowrapper_scail_pose_embeds": _wvw(),
    "06_core_wan_scail_to_video": _core_scail(),
}
#: Nodes of other packs that a graph test cannot run (the twin keeps them; the runner records
#: what reaches them).
PEER_NODES = {"WanVideoEmptyEmbeds", "WanVideoAddSCAILPoseEmbeds", "WanSCAILToVideo"}


# --------------------------------------------------------------------------------------------
# schema access (ours from the node classes, foreign from FOREIGN)
# --------------------------------------------------------------------------------------------


def node_io(node_type: str, node_classes: dict) -> tuple[list[tuple], list[tuple]]:
    """(inputs [(name, type, kind, default, optional)], outputs [(name, type)])."""
    if node_type in FOREIGN:
        f = FOREIGN[node_type]
        return [(*i, True) for i in f["inputs"]], list(f["outputs"])
    s = node_classes[node_type].GET_SCHEMA()
    ins = []
    for i in s.inputs or []:
        kind = W if hasattr(i, "default") else S
        ins.append((i.id, str(i.get_io_type()), kind, getattr(i, "default", None), i.optional))
    outs = [(o.id, str(o.io_type)) for o in s.outputs or []]
    return ins, outs


def output_label(node_type: str, index: int, node_classes: dict) -> str:
    """The socket name ComfyUI shows: display_name, else the type."""
    if node_type in FOREIGN:
        return FOREIGN[node_type]["outputs"][index][0]
    out = node_classes[node_type].GET_SCHEMA().outputs[index]
    return out.display_name or str(out.io_type)


def _output_slot(outs: list[tuple], name: str) -> int:
    return [o[0] for o in outs].index(name)


def ui_input_names(node: dict, node_classes: dict) -> list[str]:
    """The names in the node's LiteGraph ``inputs`` array, in schema order: every socket, plus
    each widget that this node gets through a link (a widget converted to an input).

    A link's target slot is the index into this list, not into the full schema input list.
    """
    linked = node.get("inputs", {})
    ins, _ = node_io(node["type"], node_classes)
    unknown = set(linked) - {i[0] for i in ins}
    if unknown:
        raise KeyError(f"node {node['id']} ({node['type']}) has no inputs {sorted(unknown)}")
    return [i[0] for i in ins if i[2] == S or (i[2] == W and i[0] in linked)]


def build_ui(nodes: list[dict], node_classes: dict) -> dict:
    """The UI-format (LiteGraph) workflow of ``nodes``.

    Link rows are ``[id, origin_id, origin_slot, target_id, target_slot, type]`` where
    ``origin_slot`` indexes the source node's ``outputs`` and ``target_slot`` the target node's
    ``inputs`` array (sockets + linked widgets), as LiteGraph and ComfyUI's validator expect.
    """
    by_id = {n["id"]: n for n in nodes}
    links, ui_nodes = [], []
    out_links: dict[tuple[int, int], list[int]] = {}
    in_link: dict[tuple[int, str], int] = {}
    for n in nodes:
        slots = ui_input_names(n, node_classes)
        for name, (src, out_name) in n.get("inputs", {}).items():
            src_outs = node_io(by_id[src]["type"], node_classes)[1]
            slot = _output_slot(src_outs, out_name)
            link_id = len(links) + 1
            links.append([link_id, src, slot, n["id"], slots.index(name), src_outs[slot][1]])
            out_links.setdefault((src, slot), []).append(link_id)
            in_link[(n["id"], name)] = link_id
    for order, n in enumerate(nodes):
        ins, outs = node_io(n["type"], node_classes)
        given = n.get("widgets", {})
        slots = ui_input_names(n, node_classes)
        types = {i[0]: i[1] for i in ins}
        ui_inputs = []
        for name in slots:
            entry = {"name": name, "type": types[name]}
            if name not in [i[0] for i in ins if i[2] == S]:
                entry["widget"] = {"name": name}
            entry["link"] = in_link.get((n["id"], name))
            ui_inputs.append(entry)
        values = [given.get(name, default) for name, _t, kind, default, _o in ins
                  if kind in (W, "ui")]  # fmt: skip
        ui_outputs = [
            {
                "name": output_label(n["type"], k, node_classes),
                "type": typ,
                "links": out_links.get((n["id"], k), []),
                "slot_index": k,
            }
            for k, (_name, typ) in enumerate(outs)
        ]
        ui_nodes.append({
            "id": n["id"], "type": n["type"], "pos": n["pos"], "size": [340, 160], "flags": {},
            "order": order, "mode": 0, "inputs": ui_inputs, "outputs": ui_outputs,
            "properties": {"Node name for S&R": n["type"]}, "widgets_values": values,
        })  # fmt: skip
    return {
        "last_node_id": max(by_id), "last_link_id": len(links), "nodes": ui_nodes,
        "links": links, "groups": [], "config": {},
        "extra": {"ds": {"scale": 0.6, "offset": [40, 40]}}, "version": 0.4,
    }  # fmt: skip


def ui_to_api(ui: dict, node_classes: dict) -> dict:
    """ComfyUI's UI -> API conversion for these graphs (widgets by schema order, links)."""
    links = {lk[0]: lk for lk in ui["links"]}
    api = {}
    for n in ui["nodes"]:
        if n["type"] == "Note":
            continue
        ins, _ = node_io(n["type"], node_classes)
        widget_names = [i[0] for i in ins if i[2] in (W, "ui")]
        inputs = {}
        for name, value in zip(widget_names, n["widgets_values"], strict=True):
            if [i for i in ins if i[0] == name][0][2] == W:
                inputs[name] = value
        for inp in n["inputs"]:
            if inp.get("link") is not None:
                lk = links[inp["link"]]
                inputs[inp["name"]] = [str(lk[1]), lk[2]]
        api[str(n["id"])] = {"class_type": n["type"], "inputs": inputs}
    return api


#: Small synthetic inputs of the twins (the rest equals the templates).
TWIN_OVERRIDES = {"ScailPoseResizeCrop": {"short_side": 256, "long_side": 448},
                  "ScailPoseExtractSinglePerson": {"short_side": 256, "long_side": 448}}  # fmt: skip
#: The multi-character twins use a YOLOX stand-in that finds two people.
TWO_PEOPLE_DETECTOR = "yolox_l_two_people.onnx"


def build_twin(name: str, ui: dict, node_classes: dict) -> dict:
    api = ui_to_api(ui, node_classes)
    for node in api.values():
        node["inputs"].update(TWIN_OVERRIDES.get(node["class_type"], {}))
        if name.startswith(("03_", "04_")) and node["class_type"] == "ScailPoseLoadDWPose":
            node["inputs"]["detector_file"] = TWO_PEOPLE_DETECTOR
    return api


TITLES = {
    "01_single_person": "Single person",
    "02_single_person_retarget": "Single person + retarget",
    "03_multi_character_sam2": "Multi-character (SAM2)",
    "04_multi_character_external_masks": "Multi-character (your masks)",
    "05_wanvideowrapper_scail_pose_embeds": "-> WanVideoWrapper SCAIL",
    "06_core_wan_scail_to_video": "-> core WanSCAILToVideo",
}


def make_thumbnail(name: str, path: Path, core) -> None:
    """A frame of the pack's own render of its demo motion, titled (JPEG, 448x256)."""
    import importlib

    import cv2

    importlib.import_module(core.__name__ + ".demo_motion")
    people = 2 if name.startswith(("03_", "04_")) else 1
    seq = core.demo_motion.demo_motion(num_frames=12, size_hw=(256, 448), people=people)
    rgba = core.render.render_rgba(seq, core.render.RenderOptions(device="cpu"))
    frame = np.ascontiguousarray(rgba[8, ..., :3])
    cv2.putText(frame, TITLES[name], (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (235, 235, 235),
                1, cv2.LINE_AA)  # fmt: skip
    cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])


def main() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    import asyncio

    from _fake_comfy import install

    install()
    sys.path.insert(0, str(ROOT.parent))
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "scail_pose_pack", ROOT / "__init__.py", submodule_search_locations=[str(ROOT)]
    )
    pack = importlib.util.module_from_spec(spec)
    sys.modules["scail_pose_pack"] = pack
    spec.loader.exec_module(pack)
    ext = asyncio.run(pack.nodes.comfy_entrypoint())
    classes = {c.GET_SCHEMA().node_id: c for c in asyncio.run(ext.get_node_list())}
    EXAMPLES.mkdir(exist_ok=True)
    for name, nodes in WORKFLOWS.items():
        ui = build_ui(nodes, classes)
        (EXAMPLES / f"{name}.json").write_text(json.dumps(ui, indent=1) + "\n")
        twin = build_twin(name, ui, classes)
        (TWINS / f"{name}.api.json").write_text(json.dumps(twin, indent=1) + "\n")
        thumb = EXAMPLES / f"{name}.jpg"
        if not thumb.exists() or "--thumbnails" in sys.argv:
            make_thumbnail(name, thumb, pack.scail_pose_core)


if __name__ == "__main__":
    main()
