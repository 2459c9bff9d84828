"""ComfyUI adapters (V3 node API). Placeholder until the node modules land."""

from __future__ import annotations


async def comfy_entrypoint():  # pragma: no cover - replaced by the nodes work
    raise NotImplementedError("nodes are not written yet")
