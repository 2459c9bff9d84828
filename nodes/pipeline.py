"""One-shot node: the reference's whole single-person job, video + reference image -> render."""

from __future__ import annotations

from comfy_api.latest import io, ui

from ..scail_pose_core.pipeline import (
    CROP_MODES,
    FRAMES_4N1,
    OUTPUT_SIZES,
    RETARGET_MODES,
    PipelineModels,
    PipelineOptions,
    run_single,
)
from ..scail_pose_core.render import RenderOptions, render_sequence
from . import _bridge, _convert
from .comfy_types import DWPoseModelIO, NLFModelIO, PoseSequenceIO


class ExtractSinglePerson(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        d = PipelineOptions()
        return io.Schema(
            node_id="ScailPoseExtractSinglePerson",
            display_name="SCAIL Pose (single person, one node)",
            category="SCAIL-Pose",
            description=(
                "The reference pipeline in one node: resize + crop to SCAIL's resolution, "
                "YOLOX + DWPose 2D, NLF 3D, optional retargeting to the reference image, then "
                "the cylinder render. Streams the video in chunks."
            ),
            inputs=[
                io.Image.Input("video", tooltip="Driving video frames (IMAGE batch)."),
                DWPoseModelIO.Input("dwpose_model", tooltip="From Load DWPose Models."),
                NLFModelIO.Input("nlf_model", tooltip="From Load NLF Model."),
                io.Image.Input("reference_image", optional=True,
                               tooltip="The character to animate; needed for retargeting."),
                io.Combo.Input("retarget", options=list(RETARGET_MODES), default=d.retarget,
                               tooltip="none: the driving poses as they are; camera_fit: the "
                                       "reference's alignment to the reference image; "
                                       "bone_lengths: reference bone proportions."),
                io.Int.Input("short_side", default=d.resolution[0], min=64, max=4096, step=32,
                             tooltip="Target short side (reference 512)."),
                io.Int.Input("long_side", default=d.resolution[1], min=64, max=4096, step=32,
                             tooltip="Target long side (reference 896)."),
                io.Combo.Input("crop", options=list(CROP_MODES), default=d.crop,
                               tooltip="auto/target: resize + centre crop to the target; "
                                       "native: keep the video's size."),
                io.Float.Input("fps", default=d.fps, min=1.0, max=240.0, step=0.5,
                               tooltip="Frames per second stored with the poses."),
                io.Combo.Input("output_size", options=list(OUTPUT_SIZES),
                               default=RenderOptions().output_size,
                               tooltip="half for WanVideoWrapper's SCAIL pose embeds; full for "
                                       "core WanSCAILToVideo / the reference."),
                io.Combo.Input("frames_4n1", options=list(FRAMES_4N1),
                               default=RenderOptions().frames_4n1,
                               tooltip="Make the frame count 4n+1 (trim or pad)."),
            ],
            outputs=[
                io.Image.Output("images", display_name="images", tooltip="Rendered pose video [frames, H, W, 3]."),
                io.Mask.Output("mask", display_name="mask", tooltip="Where the skeleton was drawn."),
                io.Int.Output("frame_count", display_name="frame_count", tooltip="Frames rendered."),
                PoseSequenceIO.Output("poses", display_name="poses", tooltip="The extracted poses (for preview, "
                                                       "saving or another render)."),
            ],
        )  # fmt: skip

    @classmethod
    def execute(cls, video, dwpose_model, nlf_model, retarget, short_side, long_side, crop, fps,
                output_size, frames_4n1, reference_image=None) -> io.NodeOutput:  # fmt: skip
        options = PipelineOptions(resolution=(short_side, long_side), retarget=retarget,
                                  crop=crop, fps=fps, device=_bridge.device())  # fmt: skip
        models = PipelineModels(dwpose_model.detector, dwpose_model.estimator, nlf_model.model)
        ref = None if reference_image is None else _convert.image_to_uint8(reference_image)[0]
        total = int(video.shape[0])
        bar = _bridge.progress(2 * total + (1 if ref is not None else 0))
        seen = {"done": 0, "total": 0}

        def extract_progress(done: int, total_now: int) -> None:
            seen["done"], seen["total"] = done, total_now
            bar(done, total_now)

        extracted = run_single(
            _convert.iter_uint8_chunks(video, options.chunk_size), ref, models, options,
            progress=extract_progress, check_cancel=_bridge.check_cancel, num_frames=total,
            source_fps=fps,
        )  # fmt: skip

        def render_progress(done: int, total_now: int) -> None:
            # the render's share of the job's bar: what run_single left for it
            base, end = seen["done"], seen["total"]
            bar(base + ((end - base) * done) // max(total_now, 1), end)

        ropts = RenderOptions(device=_bridge.device(), output_size=output_size,
                              frames_4n1=frames_4n1)  # fmt: skip
        res = render_sequence(extracted.sequence, ropts, progress=render_progress,
                              check_cancel=_bridge.check_cancel)  # fmt: skip
        preview = res.images[_convert.pick_preview_frames(res.frame_count)]
        return io.NodeOutput(res.images, res.mask, res.frame_count, extracted.sequence,
                             ui=ui.PreviewImage(preview, cls=cls))  # fmt: skip


NODES = [ExtractSinglePerson]
