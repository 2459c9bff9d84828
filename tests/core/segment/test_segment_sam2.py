"""The real SAM 2.1 code path: tiny model from its shipped config, random weights, CPU, 256 px.

Random weights make box/point masks meaningless, so identities are checked with planted
answers that hold for any weights: a mask prompt is reproduced on its own frame
(``use_mask_input_as_output_without_sam``), and chunked, memory-pruned propagation must equal
one unpruned propagation by sam2 itself.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from standin_sam2 import require_sam2, save_random_checkpoint, tiny_segmenter

from scail_pose_core.errors import (
    InputError,
    MissingWeightsError,
    ModelFormatError,
    OptionalDependencyError,
)
from scail_pose_core.segment import CharacterPrompt, SegmentOptions, segment_characters
from scail_pose_core.segment import sam2 as sam2_mod
from scail_pose_core.types import Detections, Pose2D, PoseFrame

H, W = 48, 64


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """The tiny 256-px model gains nothing from threads; on a shared 2-core machine a second
    thread makes it several times slower (oversubscription)."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _video(t: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    return np.stack([np.roll(base, 2 * i, axis=1) for i in range(t)])


def _rect(y0, y1, x0, x1) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def test_install_hint_when_sam2_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "sam2", None)
    with pytest.raises(OptionalDependencyError, match="--no-build-isolation --no-deps sam2==1.1.0"):
        sam2_mod.import_sam2()


def test_mask_prompts_identities_later_entry_and_chunks():
    seg = tiny_segmenter()
    frames = _video(4)
    ma, mb, mc = _rect(5, 30, 4, 20), _rect(10, 40, 30, 50), _rect(20, 44, 44, 60)
    prompts = [  # given out of id order; character 2 enters on frame 3
        CharacterPrompt(1, 0, mask=mb),
        CharacterPrompt(0, 0, mask=ma),
        CharacterPrompt(2, 3, mask=mc),
    ]
    seen = []
    chunks = list(
        seg.track(frames, prompts, chunk_size=2, progress=lambda d, t: seen.append((d, t)))
    )
    assert [s for s, _ in chunks] == [0, 2, 3]  # split at the entry frame
    masks = np.concatenate([c for _, c in chunks])
    assert masks.shape == (4, 3, H, W) and masks.dtype == bool
    assert (masks[0, 0] == ma).mean() > 0.99 and (masks[0, 1] == mb).mean() > 0.99
    assert not masks[:3, 2].any()  # not tracked before it exists
    assert (masks[3, 2] == mc).mean() > 0.99
    assert seen[-1] == (4, 4)
    # adding a character mid-video leaves the others' tracks untouched
    alone = np.concatenate([c for _, c in seg.track(frames, prompts[:2], chunk_size=2)])
    np.testing.assert_array_equal(alone, masks[:, :2])
    assert seg.predictor.image_size == 256


def test_chunked_pruned_propagation_equals_unpruned_sam2():
    seg = tiny_segmenter(short_memory=True)
    assert seg._memory_window() == 6
    frames = _video(10, seed=1)
    prompt = CharacterPrompt(0, 0, box_xyxy=[8, 6, 40, 44], points_xy=[[20, 20]], labels=[1])
    sizes = []
    orig = seg._prune

    def spy(state, f, window):
        orig(state, f, window)
        sizes.append(len(state["output_dict_per_obj"][0]["non_cond_frame_outputs"]))

    seg._prune = spy
    try:
        ours = np.concatenate([c for _, c in seg.track(frames, [prompt], chunk_size=4)])
    finally:
        del seg._prune
    window = seg._memory_window()
    assert max(sizes) <= window + 1 < len(frames)  # memory bounded by the window
    # reference: sam2's own propagation over the whole clip, nothing pruned
    state = seg._init_state(frames, False)
    seg._add_prompt(state, prompt)
    ref = np.zeros_like(ours)
    with seg._patched(tqdm=sam2_mod._quiet):
        for f, _, logits in seg.predictor.propagate_in_video(state):
            ref[f, 0] = (logits[0, 0] > 0).numpy()
    assert len(state["output_dict_per_obj"][0]["non_cond_frame_outputs"]) == len(frames) - 1
    np.testing.assert_array_equal(ours, ref)


def test_segment_characters_prompts_own_keypoints_and_cancel(monkeypatch):
    seg = tiny_segmenter()
    frames = _video(2)
    body = np.zeros((2, 24, 2))
    body[0] = [0.2, 0.3]
    body[1] = [0.7, 0.5]
    body[1, 0] = [0.72, 0.2]  # person 1's nose
    pose = Pose2D(
        body, np.full((2, 24), 0.9, np.float32), -np.ones((2, 68, 2)), np.zeros((2, 68)),
        -np.ones((2, 21, 2)), np.zeros((2, 21)), -np.ones((2, 21, 2)), np.zeros((2, 21)),
    )  # fmt: skip
    boxes = np.array([[5, 5, 20, 25], [30, 2, 62, 46]], np.float32)  # person 1 is larger
    pf = PoseFrame(detections=Detections(boxes, np.array([0.9, 0.8], np.float32)), pose2d=pose)
    calls = []
    real = seg.predictor.add_new_points_or_box

    def spy(state, frame_idx, obj_id, points=None, labels=None, box=None, **kw):
        calls.append((frame_idx, obj_id, None if points is None else np.array(points), box))
        return real(state, frame_idx, obj_id, points=points, labels=labels, box=box, **kw)

    monkeypatch.setattr(seg.predictor, "add_new_points_or_box", spy)
    cm = segment_characters(frames, [pf, pf], seg, SegmentOptions(max_characters=2))
    assert cm.masks.shape == (2, 2, H, W) and cm.character_ids.tolist() == [0, 1]
    assert cm.source == "sam2" and len(cm.prompts) == 2
    by_id = {obj: (pts, box) for _, obj, pts, box in calls}
    np.testing.assert_allclose(by_id[0][1], boxes[1])  # character 0 = the larger person
    np.testing.assert_allclose(by_id[0][0][0], [0.72 * W, 0.2 * H], rtol=1e-6)  # its own nose
    np.testing.assert_allclose(by_id[1][0][0], [0.2 * W, 0.3 * H], rtol=1e-6)

    class Stop(Exception):
        pass

    def cancel():
        raise Stop

    _, vp = sam2_mod.import_sam2()
    loader = vp.load_video_frames
    with pytest.raises(Stop):
        segment_characters(frames, pf, seg, SegmentOptions(chunk_size=1), check_cancel=cancel)
    assert vp.load_video_frames is loader  # the in-memory patch never leaks


def test_track_bad_input():
    seg = tiny_segmenter()
    frames = _video(2)
    ok = CharacterPrompt(0, 0, box_xyxy=[1, 1, 10, 10])
    with pytest.raises(InputError, match="zero prompts"):
        list(seg.track(frames, []))
    with pytest.raises(InputError, match="prompted on frame 5 but the video has 2"):
        list(seg.track(frames, [CharacterPrompt(0, 5, box_xyxy=[1, 1, 10, 10])]))
    with pytest.raises(InputError, match="unique"):
        list(seg.track(frames, [ok, ok]))
    with pytest.raises(InputError, match=r"\(10, 10\), frames are \(48, 64\)"):
        list(seg.track(frames, [CharacterPrompt(0, 0, mask=np.ones((10, 10), bool))]))
    with pytest.raises(InputError, match="uint8"):
        list(seg.track(frames.astype(np.float32), [ok]))


def test_frame_preprocessing_matches_sam2_loader(tmp_path):
    require_sam2()
    from PIL import Image
    from sam2.utils.misc import _load_img_as_tensor

    frame = _video(1)[0]
    Image.fromarray(frame).save(tmp_path / "0.png")
    ref, h, w = _load_img_as_tensor(str(tmp_path / "0.png"), 256)
    mean = np.array(sam2_mod._IMG_MEAN)[:, None, None]
    std = np.array(sam2_mod._IMG_STD)[:, None, None]
    ours = sam2_mod._FrameSource(frame[None], 256)[0].numpy()
    assert (h, w) == (H, W)
    np.testing.assert_allclose(ours, (ref.numpy() - mean) / std, atol=1e-5)


@pytest.mark.slow
def test_from_path_infers_size_and_rejects_bad_files(tmp_path):
    require_sam2()
    ckpt = save_random_checkpoint(tmp_path / "sam2.1_hiera_tiny.pt")
    seg = sam2_mod.Sam2Segmenter.from_path(ckpt, device="cpu")
    assert seg.size == "tiny" and seg.image_size == 1024
    with pytest.raises(ModelFormatError, match="'tiny' checkpoint but size='large'"):
        sam2_mod.Sam2Segmenter.from_path(ckpt, size="large", device="cpu")
    with pytest.raises(MissingWeightsError, match="not found"):
        sam2_mod.Sam2Segmenter.from_path(tmp_path / "nope.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelFormatError, match="not a readable torch checkpoint"):
        sam2_mod.Sam2Segmenter.from_path(tmp_path / "junk.pt")
    with pytest.raises(InputError, match="unknown SAM 2.1 size"):
        sam2_mod.normalize_size("huge")
    assert sam2_mod.SAM2_SIZES["base_plus"].config == "configs/sam2.1/sam2.1_hiera_b+.yaml"
