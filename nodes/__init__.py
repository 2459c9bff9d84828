"""ComfyUI adapters (V3 node API): each module converts, calls one core function, converts back.

``comfy_entrypoint`` registers the model folders and returns the extension listing every node.
"""

from __future__ import annotations

from comfy_api.latest import ComfyExtension, io

from . import (
    _bridge,
    detect,
    formats,
    lift3d,
    loaders,
    pipeline,
    prepare,
    preview,
    render,
    retarget,
    segment,
    smooth,
)

MODULES = (loaders, prepare, detect, lift3d, segment, retarget, smooth, render, preview, formats,
           pipeline)  # fmt: skip


def all_nodes() -> list[type[io.ComfyNode]]:
    return [node for module in MODULES for node in module.NODES]


class ScailPoseExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return all_nodes()


async def comfy_entrypoint() -> ScailPoseExtension:
    _bridge.register_model_folders()
    return ScailPoseExtension()
