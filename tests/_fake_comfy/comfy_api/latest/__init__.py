"""Stand-in of ``comfy_api.latest``: the ComfyExtension base plus the ``io`` and ``ui`` modules."""

from __future__ import annotations

from abc import ABC, abstractmethod

from . import _io as io
from . import _ui as ui


class ComfyExtension(ABC):
    async def on_load(self) -> None:  # noqa: B027 - optional hook, as in ComfyUI
        """Called once when the extension is loaded."""

    @abstractmethod
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        """The node classes this extension provides."""


__all__ = ["ComfyExtension", "io", "ui"]
