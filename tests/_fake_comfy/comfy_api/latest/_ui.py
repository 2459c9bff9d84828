"""Stand-in of ``comfy_api.latest._ui``: PreviewImage writes PNGs to the temp folder."""

from __future__ import annotations

import os
import secrets

import folder_paths
import numpy as np

from ._io import _UIOutput


class PreviewImage(_UIOutput):
    def __init__(self, image, animated: bool = False, cls=None, **kwargs):
        from PIL import Image as PILImage

        out_dir = folder_paths.get_temp_directory()
        os.makedirs(out_dir, exist_ok=True)
        prefix = "ComfyUI_temp_" + secrets.token_hex(3)
        self.values = []
        for i, frame in enumerate(image):
            arr = np.clip(255.0 * frame.cpu().numpy(), 0, 255).astype(np.uint8)
            name = f"{prefix}_{i:05}_.png"
            PILImage.fromarray(arr).save(os.path.join(out_dir, name))
            self.values.append({"filename": name, "subfolder": "", "type": "temp"})
        self.animated = animated

    def as_dict(self) -> dict:
        return {"images": self.values, "animated": (self.animated,)}
