"""2D stage node: YOLOX boxes + DWPose whole-body keypoints on every frame."""

from __future__ import annotations

from comfy_api.latest import io, ui

from ..scail_pose_core.pipeline import PipelineOptions
from ..scail_pose_core.pose2d import PEOPLE_MODES, DetectOptions, detect_poses
from ..scail_pose_core.types import PoseSequence
from . import _bridge, _convert, _preview
from .comfy_types import DWPoseModelIO, PoseSequenceIO


class DWPoseDetect(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        d = DetectOptions()
        return io.Schema(
            node_id="ScailPoseDWPoseDetect",
            display_name="Detect Poses (YOLOX + DWPose)",
            category="SCAIL-Pose/pose2d",
            description=(
                "Finds people with YOLOX and their whole-body 2D keypoints (body, feet, face, "
                "hands) with DWPose on every frame. Output poses are measured at the frames' "
                "size, so resize/crop the video first (Resize & Crop for SCAIL)."
            ),
            inputs=[
                DWPoseModelIO.Input("dwpose_model", tooltip="From Load DWPose Models."),
                io.Image.Input("images", tooltip="Video frames (IMAGE batch) or one image."),
                io.Float.Input("fps", default=PipelineOptions().fps, min=1.0, max=240.0,
                               step=0.5, tooltip="Frames per second of the video (kept with "
                                                 "the poses; the reference writes 16)."),
                io.Combo.Input("people", options=list(PEOPLE_MODES), default=d.people,
                               tooltip="all: every person (multi-character); first: the "
                                       "highest-scoring person (the reference's single-person "
                                       "choice); largest: the max_people largest."),
                io.Int.Input("max_people", default=d.max_people or 0, min=0, max=64,
                             tooltip="Cap on people kept per frame; 0 = no cap "
                                     "(largest mode: 0 means 1)."),
                io.Float.Input("score_threshold", default=d.score_threshold, min=0.0, max=1.0,
                               step=0.01, tooltip="YOLOX person score threshold."),
                io.Float.Input("keypoint_threshold", default=d.keypoint_threshold, min=0.0,
                               max=1.0, step=0.01, tooltip="Keypoints scoring below this are "
                                                          "treated as not visible."),
                io.Boolean.Input("fallback_full_image", default=d.fallback_full_image,
                                 tooltip="When YOLOX finds nobody, run DWPose on the whole "
                                         "frame (the reference does)."),
            ],
            outputs=[PoseSequenceIO.Output("poses", display_name="poses", tooltip="2D poses and boxes per frame.")],
        )  # fmt: skip

    @classmethod
    def execute(cls, dwpose_model, images, fps, people, max_people, score_threshold,
                keypoint_threshold, fallback_full_image) -> io.NodeOutput:  # fmt: skip
        options = DetectOptions(
            score_threshold=score_threshold, keypoint_threshold=keypoint_threshold,
            people=people, max_people=max_people or None, fallback_full_image=fallback_full_image,
        )  # fmt: skip
        frames = detect_poses(
            _convert.iter_uint8_chunks(images, options.chunk_size),
            dwpose_model.detector, dwpose_model.estimator, options,
            progress=_bridge.progress(images.shape[0]), check_cancel=_bridge.check_cancel,
        )  # fmt: skip
        seq = PoseSequence(tuple(frames), size_hw=_convert.frame_size(images), fps=fps)
        preview = ui.PreviewImage(_preview.overlay_frames(images, frames), cls=cls)
        return io.NodeOutput(seq, ui=preview)


NODES = [DWPoseDetect]
