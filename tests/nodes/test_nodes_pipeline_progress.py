"""The one-node pipeline (ScailPoseExtractSinglePerson) drives one ComfyUI progress bar with a
real total through extraction and rendering (fake ComfyUI records the bar's updates)."""

from __future__ import annotations

import pytest
from comfy_nodes_support import figure_frames, run_node, to_image

T = 5


def test_one_node_pipeline_progress_has_a_real_total(node_classes, standin_models, comfy_kind):
    if comfy_kind != "fake":
        pytest.skip("inspects the stand-in's progress records")
    import comfy.utils

    video = to_image(figure_frames(T))
    dw = run_node(node_classes["ScailPoseLoadDWPose"], provider="CPU")[0]
    nlf = run_node(node_classes["ScailPoseLoadNLF"], device="cpu")[0]
    comfy.utils.UPDATES.clear()
    out = run_node(node_classes["ScailPoseExtractSinglePerson"], video=video, dwpose_model=dw,
                   nlf_model=nlf, retarget="none", short_side=256, long_side=448,
                   output_size="full", frames_4n1="none")  # fmt: skip
    assert out[2] == T
    updates = list(comfy.utils.UPDATES)
    # one total for the whole job: T extraction steps + T render steps, from the first update
    assert updates and {t for _, t in updates} == {2 * T}, updates
    dones = [d for d, _ in updates]
    assert 0 < dones[0] <= T  # extraction counted against the real frame count
    # run_single renders lazily here, so extraction stops at T: only the node's own render
    # (given the bar's progress) can take it to the end
    assert dones == sorted(dones) and T in dones and dones[-1] == 2 * T
