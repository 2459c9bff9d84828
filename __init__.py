"""SCAIL-Pose ComfyUI node pack: registers the nodes (V3 API) and the web extension folder."""

from .nodes import comfy_entrypoint

WEB_DIRECTORY = "./web"

__all__ = ["WEB_DIRECTORY", "comfy_entrypoint"]
