"""Executes an API-format prompt in process, calling our node classes as ComfyUI does.

The few ComfyUI core nodes the examples use are emulated on synthetic inputs
(:data:`VIDEOS`); nodes of other packs (:data:`workflow_builder.PEER_NODES`) are recorded
with the values that reach them instead of being run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from comfy_nodes_support import run_node, to_image


class GraphResult:
    def __init__(self) -> None:
        self.outputs: dict[str, tuple] = {}
        self.ui: dict[str, dict] = {}
        self.peers: dict[str, dict] = {}
        self.saved: dict[str, torch.Tensor] = {}


def _foreign(class_type: str, inputs: dict, videos: dict, images: dict, res: GraphResult, nid):
    if class_type == "LoadVideo":
        return (inputs["file"],)
    if class_type == "GetVideoComponents":
        frames = videos[inputs["video"]]
        return (to_image(frames), None, 16.0)
    if class_type == "LoadImage":
        img = to_image(images[inputs["image"]][None])
        return (img, torch.zeros(img.shape[:3]))
    if class_type == "ImageToMask":
        ch = ["red", "green", "blue", "alpha"].index(inputs["channel"])
        return (inputs["image"][..., ch].clone(),)
    if class_type in ("PreviewImage", "SaveImage"):
        res.saved[nid] = inputs["images"]
        return ()
    raise KeyError(class_type)


def run_prompt(
    prompt: dict,
    node_classes: dict,
    videos: dict[str, np.ndarray],
    images: dict[str, np.ndarray],
    peer_nodes: set[str],
    patch: dict[str, Callable[..., tuple]] | None = None,
) -> GraphResult:
    """Run every node of ``prompt`` once, in dependency order."""
    res = GraphResult()
    pending = dict(prompt)
    while pending:
        ready = [
            nid
            for nid, node in pending.items()
            if all(
                str(v[0]) in res.outputs
                for v in node["inputs"].values()
                if isinstance(v, list) and len(v) == 2
            )
        ]
        assert ready, f"cycle or dangling link among {sorted(pending)}"
        for nid in sorted(ready, key=int):
            node = pending.pop(nid)
            inputs = {
                k: res.outputs[str(v[0])][v[1]] if isinstance(v, list) and len(v) == 2 else v
                for k, v in node["inputs"].items()
            }
            ct = node["class_type"]
            if patch and ct in patch:
                res.outputs[nid] = patch[ct](**inputs)
            elif ct in node_classes:
                out = run_node(node_classes[ct], **inputs)
                res.outputs[nid] = tuple(out.args)
                if out.ui is not None:
                    res.ui[nid] = out.ui if isinstance(out.ui, dict) else out.ui.as_dict()
            elif ct in peer_nodes:
                res.peers[nid] = inputs
                res.outputs[nid] = (None,) * 4
            else:
                res.outputs[nid] = _foreign(ct, inputs, videos, images, res, nid)
    return res
