"""Frame, video and image I/O: uint8 RGB arrays in, uint8 RGB arrays out.

* :mod:`.frames`: the reference resize-and-centre-crop, float ↔ uint8 helpers.
* :mod:`.video`: chunked PyAV reader and an atomic H.264 mp4 writer.
* :mod:`.image`: still images (OpenCV decoder, alpha dropped).
"""

from __future__ import annotations

from .frames import float_to_uint8, resize_crop, uint8_to_float
from .image import read_image
from .video import VideoInfo, iter_video_chunks, probe_video, read_video, write_video

__all__ = [
    "VideoInfo",
    "float_to_uint8",
    "iter_video_chunks",
    "probe_video",
    "read_image",
    "read_video",
    "resize_crop",
    "uint8_to_float",
    "write_video",
]
