"""Every model file the pack uses, and how to find (or, when asked, download) it.

Resolution order of :func:`resolve_weight` (first hit wins; nothing touches the network unless
``allow_download=True``):

1. ``explicit_path`` (a file, or a folder holding the expected file name). If it is given and
   holds nothing, that is an error at once: an explicit choice is never silently replaced.
2. ``search_dirs`` in order: the model folders the caller knows about — inside ComfyUI the node
   layer passes ``folder_paths.get_folder_paths(kind)`` for our kinds ``detection``, ``nlf``,
   ``sam2`` (``extra_model_paths.yaml`` included). Each folder is searched for ``<file>`` and
   ``<kind>/<file>``.
3. ``$SCAIL_POSE_MODELS`` (read at call time; several folders separated by ``os.pathsep``), again
   ``<file>`` and ``<kind>/<file>``.
4. The user cache: :func:`default_cache_dir` ``/<kind>/<file>`` and, for Hugging Face files, the
   local Hugging Face hub cache (looked up without any network access).

Downloads (``allow_download=True``) go into ``download_dir`` (default: the first search dir,
else the user cache), through a temporary file in that folder, are checked against the known
size and sha256, then renamed into place. Hub files use ``huggingface_hub.hf_hub_download``;
the NLF release file is a plain URL fetched with :func:`download_url`. With ``HF_HUB_OFFLINE``
or ``SCAIL_POSE_OFFLINE`` set, no http(s) request is made and the failure is immediate.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import shutil
import sys
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, MissingWeightsError

LOGGER = logging.getLogger("scail_pose")

ENV_MODELS = "SCAIL_POSE_MODELS"
ENV_OFFLINE = "SCAIL_POSE_OFFLINE"

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class WeightSpec:
    """One model file.

    Fields:
        name: registry key (``"yolox_l"``, ``"dwpose"``, ``"nlf"``, ``"sam2.1_tiny"``, ...).
        filename: the file name on disk.
        kind: the ComfyUI models sub-folder it belongs in (``detection``, ``nlf``, ``sam2``).
        description: what the file is, for messages.
        url: a direct download URL.
        repo_id: Hugging Face repository holding ``filename`` (None for plain-URL files).
        size_bytes: exact size when known (checked after downloads), else None.
        approx_mb: approximate size in MB, for messages.
        sha256: hex digest when known (checked after downloads), else None.
        license: licence of the weights, as stated by their publisher.
        config: for SAM 2.1, the model config name its loader needs; else None.
    """

    name: str
    filename: str
    kind: str
    description: str
    url: str
    repo_id: str | None
    size_bytes: int | None
    approx_mb: float
    sha256: str | None
    license: str
    config: str | None = None

    @property
    def size_text(self) -> str:
        if self.size_bytes is not None:
            return f"{self.size_bytes:,} bytes (~{self.size_bytes / 1e6:.0f} MB)"
        return f"~{self.approx_mb:.0f} MB"

    def fetch_hint(self, target_dir: Path) -> str:
        """The command line(s) that put this file into ``target_dir``."""
        if self.repo_id is not None:
            return (
                f'hf download {self.repo_id} {self.filename} --local-dir "{target_dir}"\n'
                f"    (or download {self.url} into that folder)"
            )
        return f'curl -L -o "{target_dir / self.filename}" {self.url}'


def _hf(repo: str, filename: str) -> str:
    return f"https://huggingface.co/{repo}/resolve/main/{filename}"


_SAM2_SIZES = {
    # name suffix: (hf suffix, file suffix, config letter, size, sha256)
    "tiny": ("tiny", "tiny", "t", 156_008_466,
             "7402e0d864fa82708a20fbd15bc84245c2f26dff0eb43a4b5b93452deb34be69"),
    "small": ("small", "small", "s", 184_416_285,
              "6d1aa6f30de5c92224f8172114de081d104bbd23dd9dc5c58996f0cad5dc4d38"),
    "base_plus": ("base-plus", "base_plus", "b+", 323_606_802,
                  "a2345aede8715ab1d5d31b4a509fb160c5a4af1970f199d9054ccfb746c004c5"),
    "large": ("large", "large", "l", 898_083_611,
              "2647878d5dfa5098f2f8649825738a9345572bae2d4350a2468587ece47dd318"),
}  # fmt: skip


def _build_registry() -> dict[str, WeightSpec]:
    reg = {
        "yolox_l": WeightSpec(
            name="yolox_l",
            filename="yolox_l.onnx",
            kind="detection",
            description="YOLOX-L person detector (ONNX, from the DWPose release)",
            url=_hf("yzd-v/DWPose", "yolox_l.onnx"),
            repo_id="yzd-v/DWPose",
            size_bytes=216_746_733,
            approx_mb=217,
            sha256="7860ae79de6c89a3c1eb72ae9a2756c0ccfbe04b7791bb5880afabd97855a411",
            license="Apache-2.0",
        ),
        "dwpose": WeightSpec(
            name="dwpose",
            filename="dw-ll_ucoco_384.onnx",
            kind="detection",
            description="DWPose-L whole-body 2D pose, 384x288 (ONNX)",
            url=_hf("yzd-v/DWPose", "dw-ll_ucoco_384.onnx"),
            repo_id="yzd-v/DWPose",
            size_bytes=134_399_116,
            approx_mb=134,
            sha256="724f4ff2439ed61afb86fb8a1951ec39c6220682803b4a8bd4f598cd913b1843",
            license="Apache-2.0",
        ),
        "nlf": WeightSpec(
            name="nlf",
            filename="nlf_l_multi_0.3.2.torchscript",
            kind="nlf",
            description="NLF-L multi-person 3D human pose (TorchScript, isarandi/nlf v0.3.2)",
            url="https://github.com/isarandi/nlf/releases/download/v0.3.2/nlf_l_multi_0.3.2.torchscript",
            repo_id=None,
            size_bytes=None,
            approx_mb=470,
            sha256=None,
            license="see github.com/isarandi/nlf (code MIT; check the model terms of use)",
        ),
    }
    for key, (hf_size, file_size, letter, nbytes, digest) in _SAM2_SIZES.items():
        repo = f"facebook/sam2.1-hiera-{hf_size}"
        fname = f"sam2.1_hiera_{file_size}.pt"
        reg[f"sam2.1_{key}"] = WeightSpec(
            name=f"sam2.1_{key}",
            filename=fname,
            kind="sam2",
            description=f"SAM 2.1 Hiera-{hf_size} video segmentation checkpoint",
            url=_hf(repo, fname),
            repo_id=repo,
            size_bytes=nbytes,
            approx_mb=nbytes / 1e6,
            sha256=digest,
            license="Apache-2.0",
            config=f"configs/sam2.1/sam2.1_hiera_{letter}.yaml",
        )
    return reg


#: The registry: every model file the pack knows.
WEIGHTS: dict[str, WeightSpec] = _build_registry()


def get_spec(name: str) -> WeightSpec:
    """The :class:`WeightSpec` called ``name``; InputError listing the known names otherwise."""
    try:
        return WEIGHTS[name]
    except KeyError:
        raise InputError(
            f"unknown model {name!r}; known models: {', '.join(sorted(WEIGHTS))}"
        ) from None


def default_cache_dir() -> Path:
    """The per-user cache folder for model files (created on download only).

    Linux: ``$XDG_CACHE_HOME/scail_pose`` or ``~/.cache/scail_pose``; macOS:
    ``~/Library/Caches/scail_pose``; Windows: ``%LOCALAPPDATA%\\scail_pose\\Cache``.
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "scail_pose" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "scail_pose"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scail_pose"


def is_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` or ``SCAIL_POSE_OFFLINE`` is set to a true value."""
    for var in ("HF_HUB_OFFLINE", ENV_OFFLINE):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return True
    return False


def _env_dirs() -> list[Path]:
    raw = os.environ.get(ENV_MODELS, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def _candidates(spec: WeightSpec, folder: Path) -> list[Path]:
    return [folder / spec.filename, folder / spec.kind / spec.filename]


def _hub_cached(spec: WeightSpec) -> Path | None:
    """The file in the local Hugging Face cache, without any network access."""
    if spec.repo_id is None:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        hit = try_to_load_from_cache(spec.repo_id, spec.filename)
    except Exception:  # malformed cache: treat as absent
        return None
    return Path(hit) if isinstance(hit, str) and Path(hit).is_file() else None


def _found(path: Path, spec: WeightSpec) -> Path:
    if spec.size_bytes is not None:
        size = path.stat().st_size
        if size != spec.size_bytes:
            LOGGER.warning(
                "%s is %d bytes but the published %s is %d bytes; using it anyway "
                "(a partial download or a different export?)",
                path, size, spec.filename, spec.size_bytes,
            )  # fmt: skip
    LOGGER.debug("model %s resolved to %s", spec.name, path)
    return path


def resolve_weight(
    name: str,
    explicit_path: str | os.PathLike[str] | None = None,
    search_dirs: Sequence[str | os.PathLike[str]] = (),
    allow_download: bool = False,
    progress: ProgressFn | None = None,
    download_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Find the file of model ``name`` (a :data:`WEIGHTS` key); see the module docstring.

    Args:
        name: registry key, e.g. ``"yolox_l"``.
        explicit_path: a file or a folder chosen by the user; searched first and exclusively.
        search_dirs: model folders to search, in order (ComfyUI's folders for the model kind).
        allow_download: fetch the file when it is found nowhere (never implicit).
        progress: ``progress(done_bytes, total_bytes)`` during a download.
        download_dir: where a download goes (default: ``search_dirs[0]``, else the user cache
            ``<cache>/<kind>``).

    Returns:
        Path of an existing file.

    Raises:
        MissingWeightsError: not found (and not downloaded); the message lists every place
            searched, the expected file name and size, and how to get the file. Fails in
            milliseconds when offline.
        InputError: unknown ``name``.
    """
    spec = get_spec(name)
    searched: list[str] = []
    if explicit_path is not None and str(explicit_path) != "":
        p = Path(explicit_path).expanduser()
        hits = [p] if p.is_file() else ([p / spec.filename] if p.is_dir() else [])
        for h in hits:
            if h.is_file():
                return _found(h, spec)
        searched.append(
            f"{p} (explicit path: {'no ' + spec.filename + ' inside' if p.is_dir() else 'not found'})"
        )
        raise MissingWeightsError(_missing_message(spec, searched, None, None))

    dirs = [Path(d).expanduser() for d in search_dirs]
    for d in dirs:
        for c in _candidates(spec, d):
            if c.is_file():
                return _found(c, spec)
        searched.append(f"{d / spec.filename} (model folder)")
    env_dirs = _env_dirs()
    if not env_dirs:
        searched.append(f"${ENV_MODELS} (not set)")
    for d in env_dirs:
        for c in _candidates(spec, d):
            if c.is_file():
                return _found(c, spec)
        searched.append(f"{d / spec.filename} (${ENV_MODELS})")
    cache = default_cache_dir()
    cached = cache / spec.kind / spec.filename
    if cached.is_file():
        return _found(cached, spec)
    searched.append(f"{cached} (user cache)")
    hub = _hub_cached(spec)
    if hub is not None:
        return _found(hub, spec)
    if spec.repo_id is not None:
        searched.append(f"Hugging Face cache for {spec.repo_id} (local only)")

    target = (
        Path(download_dir) if download_dir is not None else (dirs[0] if dirs else cache / spec.kind)
    )
    if not allow_download:
        raise MissingWeightsError(_missing_message(spec, searched, target, None))
    try:
        return download_weight(spec, target, progress=progress)
    except MissingWeightsError as exc:
        raise MissingWeightsError(_missing_message(spec, searched, target, str(exc))) from exc


def _missing_message(
    spec: WeightSpec, searched: list[str], target: Path | None, failure: str | None
) -> str:
    lines = [
        f"Model file {spec.filename!r} ({spec.description}, {spec.size_text}) was not found.",
        "Searched:",
        *[f"  - {s}" for s in searched],
    ]
    if failure:
        lines.append(f"Download failed: {failure}")
    where = target if target is not None else Path(f"<ComfyUI>/models/{spec.kind}")
    lines += [
        "Get it with:",
        f"    {spec.fetch_hint(where)}",
        f"or place {spec.filename} in ComfyUI/models/{spec.kind}/ (or a folder named in "
        f"extra_model_paths.yaml or ${ENV_MODELS})"
        + ("" if failure else ", or allow downloads (needs internet)."),
    ]
    return "\n".join(lines)


def sha256_file(path: str | os.PathLike[str], chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk_bytes):
            h.update(block)
    return h.hexdigest()


def verify_file(path: str | os.PathLike[str], size_bytes: int | None, sha256: str | None) -> None:
    """Raise :class:`MissingWeightsError` when ``path`` has the wrong size or digest."""
    p = Path(path)
    size = p.stat().st_size
    if size_bytes is not None and size != size_bytes:
        raise MissingWeightsError(
            f"{p.name}: downloaded {size:,} bytes, expected {size_bytes:,} (incomplete download?)"
        )
    if sha256 is not None:
        digest = sha256_file(p)
        if digest.lower() != sha256.lower():
            raise MissingWeightsError(
                f"{p.name}: sha256 {digest} does not match the expected {sha256} (corrupt file?)"
            )


def download_url(
    url: str,
    dest: str | os.PathLike[str],
    size_bytes: int | None = None,
    sha256: str | None = None,
    progress: ProgressFn | None = None,
    timeout_s: float = 30.0,
    chunk_bytes: int = 1 << 20,
) -> Path:
    """Download ``url`` to ``dest`` through a temporary file in the same folder.

    The temporary file is size/sha256-checked (when those are given) and then atomically
    renamed to ``dest``; on any failure it is removed and ``dest`` is left untouched.
    ``progress(done_bytes, total_bytes)`` is called per chunk (total 0 when unknown). http(s)
    URLs are refused while offline (:func:`is_offline`).

    Raises:
        MissingWeightsError: offline, network/HTTP error, or a size/hash mismatch.
    """
    dest = Path(dest)
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("http", "https") and is_offline():
        raise MissingWeightsError(
            f"offline (HF_HUB_OFFLINE or {ENV_OFFLINE} is set): not fetching {url}"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as resp, open(tmp, "wb") as out:
                total = int(resp.headers.get("Content-Length") or 0) or int(size_bytes or 0)
                done = 0
                if progress is not None:
                    progress(0, total)
                while block := resp.read(chunk_bytes):
                    out.write(block)
                    done += len(block)
                    if progress is not None:
                        progress(done, total)
        except OSError as exc:  # URLError, HTTPError, timeouts are all OSError
            raise MissingWeightsError(f"could not download {url}: {exc}") from exc
        verify_file(tmp, size_bytes, sha256)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    LOGGER.info("downloaded %s to %s", url, dest)
    return dest


def _hub_download(spec: WeightSpec, target: Path, progress: ProgressFn | None) -> Path:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise MissingWeightsError(f"huggingface_hub is not installed ({exc})") from exc
    staging = target / f".{spec.filename}.{uuid.uuid4().hex[:12]}.download"
    kwargs: dict = {"local_dir": staging, "local_files_only": is_offline()}
    if progress is not None and _accepts(hf_hub_download, "tqdm_class"):  # newer huggingface_hub
        kwargs["tqdm_class"] = _progress_tqdm(progress)
    try:
        try:
            got = Path(hf_hub_download(spec.repo_id, spec.filename, **kwargs))
        except Exception as exc:  # LocalEntryNotFoundError (offline), HTTP errors, ...
            raise MissingWeightsError(
                f"huggingface_hub could not get {spec.repo_id}/{spec.filename}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        verify_file(got, spec.size_bytes, spec.sha256)
        dest = target / spec.filename
        os.replace(got, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if progress is not None and spec.size_bytes:
        progress(spec.size_bytes, spec.size_bytes)
    return dest


def _accepts(fn: Callable[..., object], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _progress_tqdm(progress: ProgressFn):
    from tqdm.auto import tqdm

    class _Forward(tqdm):  # type: ignore[misc, valid-type]
        """Forwards byte counts to ``progress`` (also when the bar itself is disabled)."""

        _done = 0

        def update(self, n=1):
            out = super().update(n)
            self._done += int(n or 0)
            progress(self._done, int(self.total or 0))
            return out

    return _Forward


def download_weight(
    spec: WeightSpec | str, target_dir: str | os.PathLike[str], progress: ProgressFn | None = None
) -> Path:
    """Download one registry file into ``target_dir`` (explicit; never called implicitly).

    Hub files go through ``hf_hub_download`` (``local_files_only`` while offline), the NLF
    release file through :func:`download_url`. The result is size/sha256-checked and renamed
    into ``target_dir/<filename>``.

    Raises:
        MissingWeightsError: offline, network failure, or a check failed.
    """
    spec = get_spec(spec) if isinstance(spec, str) else spec
    target = Path(target_dir)
    target.mkdir(parents=True, exist_ok=True)
    LOGGER.info("downloading %s (%s) into %s", spec.filename, spec.size_text, target)
    if spec.repo_id is not None:
        return _hub_download(spec, target, progress)
    return download_url(
        spec.url, target / spec.filename, spec.size_bytes, spec.sha256, progress=progress
    )
