"""``python -m scail_pose_core``: the reference's jobs from a shell, plus batch, downloads, demo.

Commands::

    extract --subdir DIR [--use-align | --retarget MODE] [--multi] [--resolution H W] ...
    extract --video FILE [--ref IMAGE] [--out FILE.mp4 | --out DIR] ...
    extract --batch ROOT ...          # every sub-folder holding driving.mp4; skips finished ones
    download-models [NAME ...] [--models-dir DIR] [--multi]
    demo [--out demo.mp4] [--frames N] [--people 1|2]

A folder is used the way the reference's ``process_pose.py --subdir`` uses it: the driving
video is ``driving.mp4`` and the reference image the first of ``ref_image.jpg``,
``ref_image.png``, ``ref.jpg``; the output goes beside them: ``rendered.mp4`` (no
retargeting), ``rendered_aligned.mp4`` (``--use-align`` / camera_fit, the reference's names) or
``rendered_retargeted.mp4`` (bone_lengths), each with its pose sequence next to it
(``<stem>_poses.npz``). Outputs are written to temporary
files and renamed into place only when complete, so a failed or interrupted run leaves nothing
that looks finished.

Exit codes: 0 success, 1 an error (one line on stderr saying what to do), 2 bad command-line
usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import Cancelled, InputError, MissingWeightsError, ScailPoseError

LOGGER = logging.getLogger("scail_pose")

PROG = "python -m scail_pose_core"
DRIVING_NAME = "driving.mp4"
#: Reference image names, in the reference's search order (§1.1).
REF_NAMES = ("ref_image.jpg", "ref_image.png", "ref.jpg")
POSE_FORMATS = ("npz", "json")


# --------------------------------------------------------------------------------------------
# folders and output names
# --------------------------------------------------------------------------------------------


def find_pair(folder: str | Path) -> tuple[Path, Path]:
    """(driving video, reference image) of a reference-style example folder.

    Raises:
        InputError: the folder is missing, or lacks ``driving.mp4`` or every reference name.
    """
    d = Path(folder)
    if not d.is_dir():
        raise InputError(f"folder {str(d)!r} does not exist; pass a folder holding {DRIVING_NAME}")
    video = d / DRIVING_NAME
    if not video.is_file():
        raise InputError(
            f"folder {str(d)!r} has no {DRIVING_NAME}; put the driving video there under that "
            "name (or use --video FILE)"
        )
    for name in REF_NAMES:
        if (d / name).is_file():
            return video, d / name
    raise InputError(
        f"folder {str(d)!r} has no reference image ({', '.join(REF_NAMES)}); add one under one "
        "of those names (or use --video FILE --ref IMAGE)"
    )


#: Output stem per retargeting mode: the reference's names for none / camera_fit (--use_align),
#: a name of its own for bone_lengths (so a batch never mistakes one mode's output for another's).
OUTPUT_STEMS = {
    "none": "rendered",
    "camera_fit": "rendered_aligned",
    "bone_lengths": "rendered_retargeted",
}


def output_names(retarget: str, pose_format: str = "npz") -> tuple[str, str]:
    """(video name, pose-sequence name) for a retargeting mode: ``<stem>.mp4`` and
    ``<stem>_poses.<format>`` with the stem of :data:`OUTPUT_STEMS`."""
    if retarget not in OUTPUT_STEMS:
        raise InputError(f"unknown retarget mode {retarget!r}; one of {', '.join(OUTPUT_STEMS)}")
    stem = OUTPUT_STEMS[retarget]
    return f"{stem}.mp4", f"{stem}_poses.{pose_format}"


def poses_path_for(video_out: Path, pose_format: str = "npz") -> Path:
    """The pose-sequence file written beside ``video_out``."""
    return video_out.with_name(f"{video_out.stem}_poses.{pose_format}")


def is_finished(video_out: Path, poses_out: Path) -> bool:
    """A job counts as finished when both its final files exist (never temp files)."""
    return video_out.is_file() and video_out.stat().st_size > 0 and poses_out.is_file()


def _temp_name(final: Path) -> Path:
    return final.with_name(f".{final.stem}.partial-{os.getpid()}{final.suffix}")


def _remove_quietly(*paths: Path) -> None:
    """Delete temp files that may or may not exist (after success they were renamed away)."""
    for t in paths:
        try:
            t.unlink()
        except FileNotFoundError:
            pass


# --------------------------------------------------------------------------------------------
# progress
# --------------------------------------------------------------------------------------------


class ProgressPrinter:
    """``progress(done, total)`` as a tqdm bar when tqdm is installed, else stderr lines."""

    def __init__(self, desc: str, enabled: bool = True, min_interval_s: float = 2.0):
        self.desc = desc
        self.enabled = enabled
        self.min_interval_s = min_interval_s
        self._bar = None
        self._last = time.monotonic()
        self._last_pct = -1
        self._tqdm = None
        if enabled:
            try:
                from tqdm import tqdm

                self._tqdm = tqdm
            except ImportError:
                self._tqdm = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._tqdm is not None:
            if self._bar is None:
                self._bar = self._tqdm(
                    total=total or None, desc=self.desc, unit="step", leave=False
                )
            if total and self._bar.total != total:
                self._bar.total = total
            self._bar.n = done
            self._bar.refresh()
            return
        now = time.monotonic()
        pct = int(100 * done / total) if total else 0
        first = self._last_pct < 0
        due = done >= total > 0 or now - self._last >= self.min_interval_s
        if first or (pct != self._last_pct and (due or pct >= self._last_pct + 10)):
            shown = f"{pct}% ({done}/{total})" if total else f"{done} done"
            print(f"{self.desc}: {shown}", file=sys.stderr, flush=True)
            self._last, self._last_pct = now, pct

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


# --------------------------------------------------------------------------------------------
# argument parsing
# --------------------------------------------------------------------------------------------


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer ≥ 1, got {text!r}")
    return v


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, errors only")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")


def build_parser() -> argparse.ArgumentParser:
    from .pipeline import FRAME_COUNT_POLICIES, FRAMES_4N1, RETARGET_MODES
    from .segment.sam2 import SAM2_SIZES

    sam2_sizes = tuple(SAM2_SIZES)

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="SCAIL-Pose: pose videos for SCAIL (detection → 2D → 3D → retarget → render).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    ex = sub.add_parser(
        "extract",
        help="render the pose video of a driving video (like process_pose.py)",
        description="Render the pose video of a driving video, like the reference's "
        "process_pose.py / process_pose_multi.py.",
    )
    src = ex.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--subdir", type=Path, metavar="DIR",
        help=f"folder with {DRIVING_NAME} and {'/'.join(REF_NAMES)}; outputs go beside them",
    )  # fmt: skip
    src.add_argument("--video", type=Path, metavar="FILE", help="driving video anywhere")
    src.add_argument(
        "--batch", type=Path, metavar="ROOT",
        help="run every sub-folder of ROOT holding driving.mp4; finished ones are skipped",
    )  # fmt: skip
    ex.add_argument("--ref", type=Path, metavar="IMAGE", help="reference image (with --video)")
    ex.add_argument(
        "--out", type=Path, metavar="PATH",
        help="with --video: output .mp4 file or folder (default: <video>_rendered.mp4 beside it)",
    )  # fmt: skip
    ex.add_argument(
        "--use-align", action="store_true",
        help="fit the camera to the reference image (= --retarget camera_fit)",
    )  # fmt: skip
    ex.add_argument("--retarget", choices=RETARGET_MODES, default=None, help="retargeting mode")
    ex.add_argument("--multi", action="store_true", help="multi-character job (SAM2 tracking)")
    ex.add_argument(
        "--resolution", nargs=2, type=int, metavar=("H", "W"), default=None,
        help="target size pair, orientation from the video (default 512 896)",
    )  # fmt: skip
    ex.add_argument(
        "--crop", choices=("auto", "target", "native"), default="auto",
        help="resize+crop to the target (single job) or keep the native size (multi job)",
    )  # fmt: skip
    ex.add_argument("--fps", type=_positive_float, default=16.0, help="output fps (default 16)")
    ex.add_argument("--half", action="store_true", help="render at half size")
    ex.add_argument(
        "--frames-4n1", nargs="?", const="trim", default="none", choices=FRAMES_4N1,
        help="make the frame count 4n+1 for SCAIL: trim (default when given) or pad",
    )  # fmt: skip
    ex.add_argument(
        "--frame-count-policy", choices=FRAME_COUNT_POLICIES, default="none",
        help="reference_api: 65 or 81 frames like the reference web service",
    )  # fmt: skip
    ex.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    ex.add_argument(
        "--models-dir", type=Path, action="append", default=None, metavar="DIR",
        help="folder holding the model files (repeatable; also $SCAIL_POSE_MODELS)",
    )  # fmt: skip
    ex.add_argument(
        "--sam2", default="large", choices=sam2_sizes,
        help="SAM 2.1 size for --multi (reference: large)",
    )  # fmt: skip
    ex.add_argument(
        "--download", action="store_true", help="download missing model files (needs internet)"
    )
    ex.add_argument("--chunk-size", type=_positive_int, default=32, help="frames per chunk")
    ex.add_argument("--pose-format", choices=POSE_FORMATS, default="npz")
    ex.add_argument("--overwrite", action="store_true", help="redo finished batch folders")
    _add_common(ex)

    dl = sub.add_parser("download-models", help="download the model files (explicit)")
    dl.add_argument("names", nargs="*", metavar="NAME", help="models (default: yolox_l dwpose nlf)")
    dl.add_argument("--models-dir", type=Path, default=None, metavar="DIR", help="download here")
    dl.add_argument("--multi", action="store_true", help="also the SAM 2.1 checkpoint")
    dl.add_argument("--sam2", default="large", choices=sam2_sizes)
    dl.add_argument("--list", action="store_true", help="list the models and where each is found")
    _add_common(dl)

    de = sub.add_parser(
        "demo", help="render a built-in motion (no weights needed)",
        description="Render a procedural dance to an mp4: no model files, no download.",
    )  # fmt: skip
    de.add_argument("--out", type=Path, default=Path("scail_pose_demo.mp4"), metavar="FILE")
    de.add_argument("--frames", type=_positive_int, default=33, help="frame count (default 33)")
    de.add_argument("--people", type=int, choices=(1, 2), default=1)
    de.add_argument("--style", choices=("dance", "walk"), default="dance")
    de.add_argument(
        "--resolution", nargs=2, type=int, metavar=("H", "W"), default=(512, 896),
        help="frame size (default 512 896)",
    )  # fmt: skip
    de.add_argument("--fps", type=_positive_float, default=16.0)
    de.add_argument("--half", action="store_true", help="render at half size")
    de.add_argument("--device", default="auto")
    de.add_argument("--pose-format", choices=POSE_FORMATS, default="npz")
    _add_common(de)
    return parser


# --------------------------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------------------------


@dataclass
class _Job:
    video: Path
    ref: Path | None
    video_out: Path
    poses_out: Path
    label: str


def _retarget_mode(args: argparse.Namespace) -> str:
    if args.use_align and args.retarget not in (None, "camera_fit"):
        raise InputError(
            f"--use-align means --retarget camera_fit but --retarget {args.retarget} was given; "
            "use one of them"
        )
    return "camera_fit" if args.use_align else (args.retarget or "none")


def _options(args: argparse.Namespace):
    from .pipeline import PipelineOptions

    res = tuple(args.resolution) if args.resolution else (512, 896)
    crop = args.crop
    if args.multi and args.resolution and crop == "auto":
        crop = "target"  # an explicit size with --multi means: resize to it
    return PipelineOptions(
        resolution=res,
        retarget=_retarget_mode(args),
        multi=bool(args.multi),
        fps=float(args.fps),
        output_size="half" if args.half else "full",
        frames_4n1=args.frames_4n1,
        frame_count_policy=args.frame_count_policy,
        crop=crop,
        chunk_size=int(args.chunk_size),
        device=str(args.device),
    )


def _jobs(args: argparse.Namespace, retarget: str) -> list[_Job]:
    vname, pname = output_names(retarget, args.pose_format)
    if args.subdir is not None:
        if args.ref is not None or args.out is not None:
            raise InputError("--ref/--out go with --video; --subdir finds the files by name")
        video, ref = find_pair(args.subdir)
        return [_Job(video, ref, args.subdir / vname, args.subdir / pname, str(args.subdir))]
    if args.video is not None:
        if args.out is None:
            out = args.video.with_name(f"{args.video.stem}_{vname}")
        elif args.out.suffix.lower() == ".mp4":
            out = args.out
        else:
            out = args.out / vname
        return [_Job(args.video, args.ref, out, poses_path_for(out, args.pose_format), str(out))]
    root: Path = args.batch
    if args.ref is not None or args.out is not None:
        raise InputError("--ref/--out go with --video; --batch finds the files in each folder")
    if not root.is_dir():
        raise InputError(f"batch root {str(root)!r} does not exist; pass a folder of folders")
    folders = sorted(d for d in root.iterdir() if d.is_dir() and (d / DRIVING_NAME).is_file())
    if not folders:
        raise InputError(
            f"no sub-folder of {str(root)!r} holds {DRIVING_NAME}; expected ROOT/<name>/"
            f"{DRIVING_NAME} with a reference image beside it"
        )
    return [_Job(d / DRIVING_NAME, None, d / vname, d / pname, str(d)) for d in folders]


def _validate_inputs(job: _Job, options) -> None:
    """Cheap checks before any model loads: the video probes, the image decodes."""
    from .media.video import probe_video
    from .pipeline import frame_indices_for_policy, load_reference_image

    info = probe_video(job.video)
    frame_indices_for_policy(info.frame_count, options.frame_count_policy)
    if job.ref is not None:
        load_reference_image(job.ref)
    elif options.retarget != "none":
        raise InputError(
            f"--retarget {options.retarget} needs a reference image: pass --ref IMAGE "
            "(or use --retarget none)"
        )
    if not job.video_out.parent.is_dir():
        raise InputError(
            f"output folder {str(job.video_out.parent)!r} does not exist; create it first"
        )


def _run_job(job: _Job, models, options, quiet: bool, pose_format: str) -> dict:
    """One extraction into temp files, renamed into place only after both are complete."""
    from .formats import save_sequence
    from .pipeline import run_multi, run_single

    tmp_video, tmp_poses = _temp_name(job.video_out), _temp_name(job.poses_out)
    bar = ProgressPrinter(job.label, enabled=not quiet)
    try:
        run = run_multi if options.multi else run_single
        t0 = time.perf_counter()
        result = run(job.video, job.ref, models, options, progress=bar, output=tmp_video)
        save_sequence(result.sequence, tmp_poses)
        os.replace(tmp_poses, job.poses_out)
        os.replace(tmp_video, job.video_out)
        return {
            "frames": result.frame_count,
            "size_hw": result.size_hw,
            "fps": result.fps,
            "seconds": time.perf_counter() - t0,
        }
    finally:
        bar.close()
        _remove_quietly(tmp_video, tmp_poses)


def _load_models(args: argparse.Namespace, options):
    from .pipeline import PipelineModels

    return PipelineModels.load(
        models_dir=args.models_dir or None,
        device=options.device,
        multi=options.multi,
        sam2_model=f"sam2.1_{args.sam2}",
        allow_download=bool(args.download),
    )


def cmd_extract(args: argparse.Namespace) -> int:
    options = _options(args)
    jobs = _jobs(args, options.retarget)
    if args.batch is None:
        (job,) = jobs
        _validate_inputs(job, options)
        models = _load_models(args, options)
        info = _run_job(job, models, options, args.quiet, args.pose_format)
        h, w = info["size_hw"]
        print(
            f"wrote {job.video_out} ({info['frames']} frames, {w}x{h}, {info['fps']:g} fps, "
            f"{info['seconds']:.1f} s) and {job.poses_out}"
        )
        return 0
    return _run_batch(args, jobs, options)


def _run_batch(args: argparse.Namespace, jobs: list[_Job], options) -> int:
    todo: list[_Job] = []
    skipped: list[_Job] = []
    for job in jobs:
        if is_finished(job.video_out, job.poses_out) and not args.overwrite:
            skipped.append(job)
        else:
            todo.append(job)
    for job in skipped:
        print(f"skip {job.label}: {job.video_out.name} already exists", file=sys.stderr)
    failed: list[tuple[_Job, str]] = []
    done = 0
    models = None
    for i, job in enumerate(todo, 1):
        try:
            _video, ref = find_pair(job.video.parent)
            job.ref = ref
            _validate_inputs(job, options)
            if models is None:
                models = _load_models(args, options)  # once, and only when there is work
            info = _run_job(job, models, options, args.quiet, args.pose_format)
            done += 1
            print(f"[{i}/{len(todo)}] ok {job.label} ({info['frames']} frames)", file=sys.stderr)
        except MissingWeightsError:
            raise  # nothing else can succeed either
        except (KeyboardInterrupt, Cancelled):
            raise
        except Exception as exc:  # keep going past a failing folder
            reason = one_line(exc)
            failed.append((job, reason))
            print(f"[{i}/{len(todo)}] FAILED {job.label}: {reason}", file=sys.stderr)
            if args.verbose:
                LOGGER.exception("batch folder %s failed", job.label)
    print(f"batch: {done} done, {len(skipped)} skipped (finished), {len(failed)} failed")
    for job, reason in failed:
        print(f"failed: {job.label}: {reason}")
    return 1 if failed else 0


def cmd_download(args: argparse.Namespace) -> int:
    from .weights import WEIGHTS, resolve_weight

    names = list(args.names) or ["yolox_l", "dwpose", "nlf"]
    if args.multi and not args.names:
        names.append(f"sam2.1_{args.sam2}")
    for n in names:
        if n not in WEIGHTS:
            raise InputError(f"unknown model {n!r}; known models: {', '.join(sorted(WEIGHTS))}")
    dirs = [args.models_dir] if args.models_dir is not None else []
    if args.list:
        for n in sorted(WEIGHTS):
            try:
                where = str(resolve_weight(n, search_dirs=dirs))
            except MissingWeightsError:
                where = "missing"
            print(f"{n:18s} {WEIGHTS[n].filename:36s} {where}")
        return 0
    if args.models_dir is not None:
        args.models_dir.mkdir(parents=True, exist_ok=True)
    for n in names:
        bar = ProgressPrinter(f"download {n}", enabled=not args.quiet)
        try:
            path = resolve_weight(n, search_dirs=dirs, allow_download=True, progress=bar)
        finally:
            bar.close()
        print(f"{n}: {path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.suffix.lower() != ".mp4":
        raise InputError(f"--out must name an .mp4 file, got {str(out)!r}")
    if not out.parent.is_dir():
        raise InputError(f"output folder {str(out.parent)!r} does not exist; create it first")
    h, w = (int(v) for v in args.resolution)
    if h < 16 or w < 16 or h % 2 or w % 2:
        raise InputError(f"--resolution must be two even sizes ≥ 16, got {h} {w}")
    from .demo_motion import demo_motion
    from .formats import save_sequence
    from .media.video import write_video
    from .pipeline import rgba_to_rgb
    from .render import RenderOptions, iter_render_rgba

    t0 = time.perf_counter()
    seq = demo_motion(
        num_frames=args.frames, fps=args.fps, size_hw=(h, w), people=args.people, style=args.style
    )
    options = RenderOptions(device=args.device, palette="multi" if args.people > 1 else "single")
    output_size = "half" if args.half else "full"
    poses_out = poses_path_for(out, args.pose_format)
    tmp_video, tmp_poses = _temp_name(out), _temp_name(poses_out)
    bar = ProgressPrinter("demo", enabled=not args.quiet)
    count = {"frames": 0}

    def rgb_chunks():
        for rgba in iter_render_rgba(seq, options):
            count["frames"] += int(rgba.shape[0])
            bar(count["frames"], len(seq))
            yield rgba_to_rgb(rgba, output_size, (h, w))

    try:
        write_video(tmp_video, rgb_chunks(), fps=args.fps)
        save_sequence(seq, tmp_poses)
        os.replace(tmp_poses, poses_out)
        os.replace(tmp_video, out)
    finally:
        bar.close()
        _remove_quietly(tmp_video, tmp_poses)
    oh, ow = (h // 2, w // 2) if args.half else (h, w)
    print(
        f"wrote {out} ({count['frames']} frames, {ow}x{oh}, {args.fps:g} fps, "
        f"{time.perf_counter() - t0:.1f} s) and {poses_out}"
    )
    return 0


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------


def one_line(exc: BaseException) -> str:
    """An exception as one line (multi-line messages joined with " | ")."""
    text = str(exc).strip() or type(exc).__name__
    parts = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " | ".join(parts)


def _error_line(exc: BaseException) -> str:
    msg = one_line(exc)
    if isinstance(exc, MissingWeightsError):
        msg += (
            f" | CLI: {PROG} download-models --models-dir DIR (needs internet), then "
            "extract --models-dir DIR"
        )
    elif not isinstance(exc, ScailPoseError):
        msg = f"unexpected {type(exc).__name__}: {msg} (rerun with --verbose for the traceback)"
    return msg


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "extract": cmd_extract,
    "download-models": cmd_download,
    "demo": cmd_demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (never raises for user errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else (logging.ERROR if args.quiet else logging.WARNING),
        format="%(levelname)s: %(message)s",
    )
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; no partial output was kept", file=sys.stderr)
        return 130
    except Cancelled as exc:
        print(f"{PROG}: cancelled: {one_line(exc)}", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.verbose:
            LOGGER.exception("%s failed", args.command)
        print(f"{PROG}: error: {_error_line(exc)}", file=sys.stderr)
        return 1
