"""Interop nodes: POSE_KEYPOINT in/out, pose-sequence files (JSON/NPZ) and GLB export.

Files are written to / read from ComfyUI's output folder only (see ``_files``).
"""

from __future__ import annotations

import os

from comfy_api.latest import io

from ..scail_pose_core import render as core_render
from ..scail_pose_core.formats import (
    from_pose_keypoint,
    load_sequence,
    save_sequence,
    to_pose_keypoint,
)
from ..scail_pose_core.pipeline import PipelineOptions
from . import _files
from .comfy_types import PoseKeypointIO, PoseSequenceIO

NO_FILES = "(no saved pose sequences in output/scail_pose/)"


class ToPoseKeypoint(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="ScailPoseToPoseKeypoint",
            display_name="Poses to POSE_KEYPOINT",
            category="SCAIL-Pose/formats",
            description="Converts the 2D poses to POSE_KEYPOINT (OpenPose JSON in pixels, one "
                        "dict per frame), for ControlNet-aux and core pose nodes.",
            inputs=[PoseSequenceIO.Input("poses", tooltip="Poses with 2D keypoints.")],
            outputs=[PoseKeypointIO.Output("pose_keypoint", display_name="pose_keypoint", tooltip="OpenPose-style frames.")],
        )  # fmt: skip

    @classmethod
    def execute(cls, poses) -> io.NodeOutput:
        return io.NodeOutput(to_pose_keypoint(poses))


class FromPoseKeypoint(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="ScailPoseFromPoseKeypoint",
            display_name="POSE_KEYPOINT to Poses",
            category="SCAIL-Pose/formats",
            description="Reads POSE_KEYPOINT frames (pixels or normalised) from another pose "
                        "node as 2D poses (no 3D yet: lift them with NLF, full-frame mode).",
            inputs=[
                PoseKeypointIO.Input("pose_keypoint", tooltip="POSE_KEYPOINT from a pose node."),
                io.Float.Input("fps", default=PipelineOptions().fps, min=1.0, max=240.0,
                               step=0.5, tooltip="Frames per second of the video."),
                io.Int.Input("width", default=0, min=0, max=8192,
                             tooltip="Canvas width; 0 = the frames' canvas_width."),
                io.Int.Input("height", default=0, min=0, max=8192,
                             tooltip="Canvas height; 0 = the frames' canvas_height."),
            ],
            outputs=[PoseSequenceIO.Output("poses", display_name="poses", tooltip="2D poses per frame.")],
        )  # fmt: skip

    @classmethod
    def execute(cls, pose_keypoint, fps, width, height) -> io.NodeOutput:
        size = (height, width) if width and height else None
        return io.NodeOutput(from_pose_keypoint(pose_keypoint, size_hw=size, fps=fps))


class SavePoses(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="ScailPoseSavePoses",
            display_name="Save Pose Sequence",
            category="SCAIL-Pose/formats",
            description="Saves the whole pose sequence (2D, 3D, camera, fps) as JSON or NPZ "
                        "inside ComfyUI's output folder.",
            inputs=[
                PoseSequenceIO.Input("poses", tooltip="The sequence to save."),
                io.String.Input("filename_prefix", default="scail_pose/poses",
                                tooltip="Relative to the output folder; a counter is added. "
                                        "Load Pose Sequence lists files saved under "
                                        "scail_pose/."),
                io.Combo.Input("format", options=["json", "npz"], default="json",
                               tooltip="json: readable; npz: compact numpy arrays."),
            ],
            outputs=[],
            is_output_node=True,
        )  # fmt: skip

    @classmethod
    def execute(cls, poses, filename_prefix, format) -> io.NodeOutput:
        path = save_sequence(poses, _files.output_path(filename_prefix, "." + format))
        sub, name = _files.relative_to_output(path)
        return io.NodeOutput(ui={"text": [os.path.join(sub, name)]})


class LoadPoses(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        files = _files.list_pose_files() or [NO_FILES]
        return io.Schema(
            node_id="ScailPoseLoadPoses",
            display_name="Load Pose Sequence",
            category="SCAIL-Pose/formats",
            description="Loads a pose sequence saved with Save Pose Sequence (or the CLI) from "
                        "ComfyUI's output folder: the list shows output/scail_pose/ "
                        "(Save Pose Sequence's default place).",
            inputs=[io.Combo.Input("file", options=files,
                                   tooltip="A saved sequence (<name>_NNNNN.json/.npz) under "
                                           "output/scail_pose/; press Refresh (R) after "
                                           "saving.")],
            outputs=[PoseSequenceIO.Output("poses", display_name="poses", tooltip="The loaded sequence.")],
        )  # fmt: skip

    @classmethod
    def fingerprint_inputs(cls, file):
        try:
            return os.path.getmtime(_files.existing_output_file(file))
        except Exception:  # noqa: BLE001 - execute reports it properly
            return float("nan")

    @classmethod
    def execute(cls, file) -> io.NodeOutput:
        return io.NodeOutput(load_sequence(_files.existing_output_file(file)))


class ExportGLB(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="ScailPoseExportGLB",
            display_name="Export Poses as GLB",
            category="SCAIL-Pose/formats",
            description="Writes the 3D skeleton animation as a .glb file (Blender, three.js, "
                        "ComfyUI's 3D viewers) inside the output folder.",
            inputs=[
                PoseSequenceIO.Input("poses", tooltip="Poses with 3D joints."),
                io.String.Input("filename_prefix", default="scail_pose/skeleton",
                                tooltip="Relative to the output folder; a counter is added."),
            ],
            outputs=[],
            is_output_node=True,
        )  # fmt: skip

    @classmethod
    def execute(cls, poses, filename_prefix) -> io.NodeOutput:
        path = core_render.export_glb(poses, _files.output_path(filename_prefix, ".glb"))
        sub, name = _files.relative_to_output(path)
        return io.NodeOutput(ui={"text": [os.path.join(sub, name)]})


NODES = [ToPoseKeypoint, FromPoseKeypoint, SavePoses, LoadPoses, ExportGLB]
