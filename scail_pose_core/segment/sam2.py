"""SAM 2.1 video segmentation of the chosen characters (``sam2`` imported only when used).

The installed ``sam2`` package's video predictor reads frames only from a JPEG folder or an
.mp4. Here the predictor's frame loader is replaced, for the duration of one session, by a lazy
in-memory source that preprocesses exactly like ``sam2.utils.misc._load_img_as_tensor`` (PIL
resize to image_size², /255, ImageNet mean/std): no file is written and nothing is re-encoded.

Propagation runs in chunks of ``chunk_size`` frames over one inference session. After each
frame, per-frame memories older than the model can ever read again (``num_maskmem`` memory
frames and ``max_obj_ptrs_in_encoder`` object pointers) are dropped, so memory is bounded by the
window, not by the video length, and the masks are identical to a single unchunked
propagation. The prompts (conditioning frames) stay in memory for the whole video, which keeps
identities anchored. A character that enters later is added at its own prompt frame; chunks are
split there so that it is never "tracked" before it exists.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, MissingWeightsError, ModelFormatError, OptionalDependencyError
from ..runtime import CancelFn, ProgressFn, Reporter, resolve_torch_device
from .prompts import CharacterPrompt

LOGGER = logging.getLogger("scail_pose")

INSTALL_HINT = (
    "SAM2 segmentation needs the 'sam2' package, installed without a second torch: "
    "pip install hydra-core iopath setuptools wheel && "
    "SAM2_BUILD_CUDA=0 pip install --no-build-isolation --no-deps sam2==1.1.0 "
    "(also needs tqdm and pillow). Alternatively give per-character masks from another "
    "segmenter (e.g. ComfyUI's SAM3 nodes) through masks_from_external."
)


@dataclass(frozen=True)
class Sam2Size:
    """A SAM 2.1 model size: its shipped config and its official checkpoint file name."""

    name: str
    config: str
    checkpoint: str
    embed_dim: int
    num_blocks: int


#: SAM 2.1 sizes → config (shipped inside the sam2 package) and checkpoint name.
SAM2_SIZES: dict[str, Sam2Size] = {
    "tiny": Sam2Size("tiny", "configs/sam2.1/sam2.1_hiera_t.yaml", "sam2.1_hiera_tiny.pt", 96, 12),
    "small": Sam2Size(
        "small", "configs/sam2.1/sam2.1_hiera_s.yaml", "sam2.1_hiera_small.pt", 96, 16
    ),
    "base_plus": Sam2Size(
        "base_plus", "configs/sam2.1/sam2.1_hiera_b+.yaml", "sam2.1_hiera_base_plus.pt", 112, 24
    ),
    "large": Sam2Size(
        "large", "configs/sam2.1/sam2.1_hiera_l.yaml", "sam2.1_hiera_large.pt", 144, 48
    ),
}
_SIZE_ALIASES = {
    "t": "tiny", "tiny": "tiny", "s": "small", "small": "small", "b+": "base_plus",
    "base_plus": "base_plus", "base-plus": "base_plus", "baseplus": "base_plus", "l": "large",
    "large": "large",
}  # fmt: skip

#: The predictor's image normalisation (sam2.utils.misc.load_video_frames defaults).
_IMG_MEAN = (0.485, 0.456, 0.406)
_IMG_STD = (0.229, 0.224, 0.225)
_PATCH_LOCK = threading.Lock()


def import_sam2():
    """Import ``sam2.build_sam`` and ``sam2.sam2_video_predictor``; raise a helpful error."""
    try:
        from sam2 import build_sam, sam2_video_predictor
    except ImportError as e:
        raise OptionalDependencyError(f"{INSTALL_HINT} (import failed: {e})") from e
    return build_sam, sam2_video_predictor


def normalize_size(size: str) -> str:
    """Map a size name or alias (t/s/b+/l, base-plus, ...) to a key of :data:`SAM2_SIZES`."""
    key = _SIZE_ALIASES.get(str(size).strip().lower())
    if key is None:
        raise InputError(
            f"unknown SAM 2.1 size {size!r}; expected one of tiny, small, base_plus, large"
        )
    return key


def size_from_state_dict(sd: dict) -> str:
    """Infer the SAM 2.1 size from a checkpoint's image-encoder shapes."""
    w = sd.get("image_encoder.trunk.patch_embed.proj.weight")
    blocks = [k.split(".")[3] for k in sd if k.startswith("image_encoder.trunk.blocks.")]
    if w is None or not blocks:
        raise ModelFormatError(
            "not a SAM 2 checkpoint: no 'image_encoder.trunk' weights found (expected a file "
            "like sam2.1_hiera_tiny.pt from facebook/sam2.1-hiera-*)"
        )
    embed, nblocks = int(w.shape[0]), max(int(b) for b in blocks) + 1
    for s in SAM2_SIZES.values():
        if s.embed_dim == embed and s.num_blocks == nblocks:
            return s.name
    raise ModelFormatError(
        f"SAM 2 checkpoint with embed_dim {embed} and {nblocks} blocks matches no SAM 2.1 size "
        "(tiny 96/12, small 96/16, base_plus 112/24, large 144/48)"
    )


def _quiet(iterable, *args, **kwargs):
    """Stand-in for tqdm: no progress bars on stderr (progress goes through the Reporter)."""
    return iterable


class _FrameSource:
    """Lazy ``inference_state["images"]``: preprocesses frame i on request (CPU float32)."""

    def __init__(self, frames, image_size: int) -> None:
        self.frames = frames
        self.image_size = int(image_size)

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int):
        import torch
        from PIL import Image

        img = np.asarray(self.frames[int(index)])
        s = self.image_size
        arr = np.asarray(Image.fromarray(img).convert("RGB").resize((s, s))) / 255.0
        t = torch.from_numpy(arr).permute(2, 0, 1).float()
        mean = torch.tensor(_IMG_MEAN, dtype=torch.float32)[:, None, None]
        std = torch.tensor(_IMG_STD, dtype=torch.float32)[:, None, None]
        return (t - mean) / std


def _check_frames(frames) -> tuple[int, int, int]:
    """Validate a frame container; return (T, H, W)."""
    if not hasattr(frames, "__len__") or not hasattr(frames, "__getitem__"):
        raise InputError(
            "frames must be an array (T, H, W, 3) uint8 or an indexable sequence of (H, W, 3) "
            f"uint8 frames, got {type(frames).__name__}"
        )
    t = len(frames)
    if t == 0:
        raise InputError("frames: the video has no frames")
    f0 = np.asarray(frames[0])
    if f0.ndim != 3 or f0.shape[2] != 3 or f0.dtype != np.uint8:
        raise InputError(
            f"frames: expected (H, W, 3) uint8 RGB frames, got {f0.shape} {f0.dtype} for frame 0"
        )
    return t, int(f0.shape[0]), int(f0.shape[1])


class Sam2Segmenter:
    """A SAM 2.1 video predictor that segments characters from prompts.

    Build with :meth:`from_path` (a real checkpoint) or :meth:`random_weights` (tests).
    """

    def __init__(self, predictor, size: str, device: str) -> None:
        self.predictor = predictor
        self.size = size
        self.device = device

    # ------------------------------------------------------------------ construction
    @classmethod
    def _build(cls, size: str, device: str, image_size: int | None, extra: Sequence[str] = ()):
        build_sam, _ = import_sam2()
        overrides = [] if image_size is None else [f"++model.image_size={int(image_size)}"]
        overrides += list(extra)
        pred = build_sam.build_sam2_video_predictor(
            SAM2_SIZES[size].config,
            ckpt_path=None,
            device="cpu",
            hydra_overrides_extra=overrides,
            apply_postprocessing=True,
        )
        try:  # hole filling needs the optional CUDA extension; skip it cleanly when absent
            from sam2 import _C  # noqa: F401
        except ImportError:
            pred.fill_hole_area = 0
        return pred

    @classmethod
    def from_path(
        cls, ckpt: str | Path, size: str | None = None, device: str = "auto"
    ) -> Sam2Segmenter:
        """Load a SAM 2.1 checkpoint (``sam2.1_hiera_{tiny,small,base_plus,large}.pt``).

        Args:
            ckpt: the checkpoint file (a torch file holding ``{"model": state_dict}``).
            size: tiny / small / base_plus / large (aliases t, s, b+, l); default: inferred
                from the checkpoint's shapes. The config is the one shipped with ``sam2``.
            device: "auto", "cpu", "cuda", "cuda:N".

        Raises:
            MissingWeightsError: the file does not exist.
            ModelFormatError: not a SAM 2.1 checkpoint, or it does not match ``size``.
            OptionalDependencyError: ``sam2`` is not installed (with the install command).
        """
        import_sam2()
        import torch

        path = Path(ckpt)
        if not path.is_file():
            raise MissingWeightsError(
                f"SAM 2.1 checkpoint not found: {path} (expected e.g. sam2.1_hiera_tiny.pt "
                "from huggingface.co/facebook/sam2.1-hiera-tiny in models/sam2)"
            )
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - any unpickling failure means a bad file
            raise ModelFormatError(f"{path} is not a readable torch checkpoint: {e}") from e
        sd = blob.get("model", blob) if isinstance(blob, dict) else None
        if not isinstance(sd, dict):
            raise ModelFormatError(f"{path}: expected a dict with a 'model' state dict")
        found = size_from_state_dict(sd)
        if size is not None and normalize_size(size) != found:
            raise ModelFormatError(
                f"{path} is a SAM 2.1 '{found}' checkpoint but size={size!r} was requested; "
                "leave size empty to infer it"
            )
        pred = cls._build(found, "cpu", None)
        missing, unexpected = pred.load_state_dict(sd, strict=False)
        if missing or unexpected:
            raise ModelFormatError(
                f"{path}: checkpoint does not match the SAM 2.1 '{found}' config "
                f"(missing {list(missing)[:5]}, unexpected {list(unexpected)[:5]})"
            )
        dev = resolve_torch_device(device)
        return cls(pred.to(dev).eval(), found, dev)

    @classmethod
    def random_weights(
        cls,
        size: str = "tiny",
        image_size: int = 256,
        device: str = "cpu",
        seed: int = 0,
        hydra_overrides: Sequence[str] = (),
    ) -> Sam2Segmenter:
        """A model from the shipped config with random weights (tests, benchmarks).

        ``hydra_overrides`` are extra config overrides such as ``"++model.num_maskmem=3"``.
        """
        import torch

        key = normalize_size(size)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            pred = cls._build(key, "cpu", image_size, hydra_overrides)
        dev = resolve_torch_device(device)
        return cls(pred.to(dev).eval(), key, dev)

    @property
    def image_size(self) -> int:
        return int(self.predictor.image_size)

    # ------------------------------------------------------------------ session plumbing
    @staticmethod
    @contextlib.contextmanager
    def _patched(**attrs):
        """Temporarily replace attributes of ``sam2.sam2_video_predictor`` (under a lock)."""
        _, vp = import_sam2()
        with _PATCH_LOCK:
            saved = {k: getattr(vp, k) for k in attrs}
            for k, v in attrs.items():
                setattr(vp, k, v)
            try:
                yield
            finally:
                for k, v in saved.items():
                    setattr(vp, k, v)

    def _init_state(self, frames, offload_state_to_cpu: bool) -> dict:
        """``predictor.init_state`` over in-memory ``frames`` (no files, no re-encode)."""
        _, h, w = _check_frames(frames)
        source = _FrameSource(frames, self.image_size)

        def load_video_frames(video_path, image_size, offload_video_to_cpu, **kwargs):
            return source, h, w

        with self._patched(load_video_frames=load_video_frames, tqdm=_quiet), self._autocast():
            return self.predictor.init_state(
                video_path="<in-memory>", offload_state_to_cpu=offload_state_to_cpu
            )

    def _autocast(self):
        import torch

        if str(self.device).startswith("cuda"):
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _memory_window(self) -> int:
        p = self.predictor
        stride = max(1, int(getattr(p, "memory_temporal_stride_for_eval", 1)))
        return max(int(p.num_maskmem) * stride, int(p.max_obj_ptrs_in_encoder)) + 2

    @staticmethod
    def _prune(state: dict, frame_idx: int, window: int) -> None:
        """Drop per-frame memories the model can no longer read (older than ``window``)."""
        horizon = frame_idx - window
        for out in state["output_dict_per_obj"].values():
            nc = out["non_cond_frame_outputs"]
            for t in [t for t in nc if t < horizon]:
                del nc[t]
        for tracked in state.get("frames_tracked_per_obj", {}).values():
            for t in [t for t in tracked if t < horizon]:
                del tracked[t]

    def _add_prompt(self, state: dict, p: CharacterPrompt) -> None:
        import torch

        pred = self.predictor
        with torch.inference_mode(), self._autocast():
            if p.mask is not None:
                pred.add_new_mask(state, p.frame_index, p.character_id, torch.from_numpy(p.mask))
            else:
                pred.add_new_points_or_box(
                    state,
                    frame_idx=p.frame_index,
                    obj_id=p.character_id,
                    points=p.points_xy if p.points_xy.shape[0] else None,
                    labels=p.labels if p.points_xy.shape[0] else None,
                    box=p.box_xyxy,
                )

    # ------------------------------------------------------------------ public API
    def track(
        self,
        frames,
        prompts: Sequence[CharacterPrompt],
        chunk_size: int = 32,
        offload_state_to_cpu: bool = False,
        progress: ProgressFn | None = None,
        check_cancel: CancelFn | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Segment the prompted characters in every frame, chunk by chunk.

        Args:
            frames: (T, H, W, 3) uint8 RGB, or an indexable sequence of (H, W, 3) uint8 frames.
            prompts: one per character; character ids must be unique. Frames before a
                character's ``frame_index`` have an empty mask for it.
            chunk_size: frames per yielded chunk (memory is bounded independently of it).
            offload_state_to_cpu: keep SAM2's per-frame memories on the CPU (saves VRAM).
            progress, check_cancel: see :mod:`scail_pose_core.runtime`.

        Yields:
            ``(start, masks)``: masks bool (t, C, H, W) for frames start..start+t-1, characters
            in ascending id order.
        """
        n_frames, h, w = _check_frames(frames)
        if chunk_size < 1:
            raise InputError(f"chunk_size must be >= 1, got {chunk_size}")
        if not prompts:
            raise InputError("no characters to segment (zero prompts)")
        ids = [p.character_id for p in prompts]
        if len(set(ids)) != len(ids):
            raise InputError(f"character ids must be unique, got {ids}")
        for p in prompts:
            if p.frame_index >= n_frames:
                raise InputError(
                    f"character {p.character_id} is prompted on frame {p.frame_index} but the "
                    f"video has {n_frames} frames"
                )
            if p.mask is not None and p.mask.shape != (h, w):
                raise InputError(
                    f"mask prompt of character {p.character_id} is {p.mask.shape}, frames are "
                    f"{(h, w)}"
                )
        order = sorted(ids)
        column = {cid: i for i, cid in enumerate(order)}
        entries = sorted({p.frame_index for p in prompts})
        first = entries[0]
        starts = sorted(set(range(first, n_frames, chunk_size)) | set(entries))
        bounds = list(zip(starts, starts[1:] + [n_frames], strict=True))
        reporter = Reporter(progress, check_cancel).start(n_frames)
        window = self._memory_window()
        C = len(order)  # noqa: N806

        # Frames before any character appears: empty masks, in chunks.
        for s in range(0, first, chunk_size):
            e = min(first, s + chunk_size)
            yield s, np.zeros((e - s, C, h, w), bool)
            reporter.step(e - s)

        # sam2's public calls run under torch.inference_mode themselves; no mode is held
        # here across yields (it would leak into the caller's code).
        state = self._init_state(frames, offload_state_to_cpu)
        try:
            for s, e in bounds:
                for p in prompts:
                    if p.frame_index == s:
                        self._add_prompt(state, p)
                out = np.zeros((e - s, C, h, w), bool)
                gen = self.predictor.propagate_in_video(
                    state, start_frame_idx=s, max_frame_num_to_track=e - s - 1
                )
                while True:
                    with self._patched(tqdm=_quiet), self._autocast():
                        item = next(gen, None)
                    if item is None:
                        break
                    f, obj_ids, logits = item
                    m = (logits[:, 0] > 0.0).cpu().numpy()
                    for k, oid in enumerate(obj_ids):
                        out[f - s, column[int(oid)]] = m[k]
                    self._prune(state, f, window)
                yield s, out
                reporter.step(e - s)
        finally:
            state.clear()
