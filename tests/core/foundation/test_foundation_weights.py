"""Model-file registry, resolution order, offline failure and the download paths (no network)."""

from __future__ import annotations

import dataclasses
import hashlib
import sys
import time
from pathlib import Path

import pytest

from scail_pose_core import InputError, MissingWeightsError
from scail_pose_core import weights as W

EXPECTED = {
    "yolox_l": ("yolox_l.onnx", "detection", "yzd-v/DWPose"),
    "dwpose": ("dw-ll_ucoco_384.onnx", "detection", "yzd-v/DWPose"),
    "nlf": ("nlf_l_multi_0.3.2.torchscript", "nlf", None),
    "sam2.1_tiny": ("sam2.1_hiera_tiny.pt", "sam2", "facebook/sam2.1-hiera-tiny"),
    "sam2.1_small": ("sam2.1_hiera_small.pt", "sam2", "facebook/sam2.1-hiera-small"),
    "sam2.1_base_plus": ("sam2.1_hiera_base_plus.pt", "sam2", "facebook/sam2.1-hiera-base-plus"),
    "sam2.1_large": ("sam2.1_hiera_large.pt", "sam2", "facebook/sam2.1-hiera-large"),
}
NLF_URL = "https://github.com/isarandi/nlf/releases/download/v0.3.2/nlf_l_multi_0.3.2.torchscript"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user cache and no $SCAIL_POSE_MODELS, so nothing on this machine leaks in."""
    c = tmp_path / "user_cache"
    monkeypatch.setattr(W, "default_cache_dir", lambda: c)
    monkeypatch.delenv(W.ENV_MODELS, raising=False)
    return c


def _put(path: Path, data: bytes = b"weights") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_registry_contents() -> None:
    assert set(W.WEIGHTS) == set(EXPECTED)
    for name, (filename, kind, repo) in EXPECTED.items():
        spec = W.WEIGHTS[name]
        assert (spec.name, spec.filename, spec.kind, spec.repo_id) == (name, filename, kind, repo)
        assert spec.license and spec.description and spec.approx_mb > 1
        if repo is not None:
            assert spec.url == f"https://huggingface.co/{repo}/resolve/main/{filename}"
            assert spec.size_bytes and spec.sha256 and len(spec.sha256) == 64
    assert W.WEIGHTS["nlf"].url == NLF_URL
    assert W.WEIGHTS["sam2.1_tiny"].config == "configs/sam2.1/sam2.1_hiera_t.yaml"
    assert W.WEIGHTS["sam2.1_base_plus"].config == "configs/sam2.1/sam2.1_hiera_b+.yaml"
    with pytest.raises(InputError, match="known models: dwpose, nlf"):
        W.get_spec("yolo")


def test_resolution_order(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "yolox_l"
    fn = "yolox_l.onnx"
    explicit = _put(tmp_path / "mine" / "custom_name.onnx")
    d1 = _put(tmp_path / "comfy_a" / fn).parent
    d2 = _put(tmp_path / "comfy_b" / fn).parent
    env = _put(tmp_path / "env" / "detection" / fn).parents[1]  # <env>/<kind>/<file>
    cached = _put(cache / "detection" / fn)
    monkeypatch.setenv(W.ENV_MODELS, str(tmp_path / "env_missing") + ":" + str(env))
    dirs = [d1, d2]
    assert W.resolve_weight(name, explicit, dirs) == explicit
    assert W.resolve_weight(name, None, dirs) == d1 / fn
    (d1 / fn).unlink()
    assert W.resolve_weight(name, None, dirs) == d2 / fn
    (d2 / fn).unlink()
    assert W.resolve_weight(name, None, dirs) == env / "detection" / fn
    (env / "detection" / fn).unlink()
    assert W.resolve_weight(name, None, dirs) == cached
    cached.unlink()
    with pytest.raises(MissingWeightsError):
        W.resolve_weight(name, None, dirs)


def test_explicit_folder_and_missing_explicit(tmp_path: Path, cache: Path) -> None:
    folder = _put(tmp_path / "f" / "dw-ll_ucoco_384.onnx").parent
    assert W.resolve_weight("dwpose", folder) == folder / "dw-ll_ucoco_384.onnx"
    other = _put(tmp_path / "comfy" / "dw-ll_ucoco_384.onnx").parent
    with pytest.raises(MissingWeightsError, match="explicit path") as exc:
        W.resolve_weight("dwpose", tmp_path / "nope.onnx", [other])
    assert "nope.onnx" in str(exc.value)


def test_hub_cache_is_found_without_network(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants as hfc

    hub = tmp_path / "hub"
    monkeypatch.setattr(hfc, "HF_HUB_CACHE", str(hub))
    repo = hub / "models--yzd-v--DWPose"
    snap = _put(repo / "snapshots" / "abc123" / "yolox_l.onnx")
    _put(repo / "refs" / "main", b"abc123")
    assert W.resolve_weight("yolox_l", None, [tmp_path / "empty"]) == snap


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("allow_download", [False, True])
def test_offline_failure_is_fast_and_complete(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, name: str, allow_download: bool
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    env_dir = tmp_path / "envdir"
    monkeypatch.setenv(W.ENV_MODELS, str(env_dir))
    spec = W.WEIGHTS[name]
    dirs = [tmp_path / "models" / "a", tmp_path / "models" / "b"]
    t0 = time.perf_counter()
    with pytest.raises(MissingWeightsError) as exc:
        W.resolve_weight(name, None, dirs, allow_download=allow_download)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0, elapsed
    msg = str(exc.value)
    for d in dirs:
        assert str(d / spec.filename) in msg
    assert str(env_dir / spec.filename) in msg
    assert str(cache / spec.kind / spec.filename) in msg
    assert spec.filename in msg and f"ComfyUI/models/{spec.kind}" in msg
    assert spec.url in msg
    assert spec.size_text in msg
    if spec.repo_id:
        assert f"hf download {spec.repo_id} {spec.filename}" in msg
        assert f"Hugging Face cache for {spec.repo_id}" in msg
    else:
        assert "curl -L -o" in msg
    if allow_download:
        assert "Download failed" in msg
    assert not any(p.name.startswith(".") for p in tmp_path.rglob("*") if p.is_file())


def test_download_url_file_scheme(tmp_path: Path) -> None:
    src = _put(tmp_path / "src.bin", b"x" * 3_000_001)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    calls: list[tuple[int, int]] = []
    dest = tmp_path / "out" / "model.bin"
    got = W.download_url(
        src.as_uri(), dest, 3_000_001, digest, progress=lambda d, t: calls.append((d, t)),
        chunk_bytes=1 << 20,
    )  # fmt: skip
    assert got == dest and dest.read_bytes() == src.read_bytes()
    assert calls[0][0] == 0 and calls[-1] == (3_000_001, 3_000_001)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) >= 4
    assert [p.name for p in dest.parent.iterdir()] == ["model.bin"]


def test_download_url_rejects_bad_hash_and_size(tmp_path: Path) -> None:
    src = _put(tmp_path / "src.bin", b"abc")
    dest = tmp_path / "out" / "model.bin"
    with pytest.raises(MissingWeightsError, match="sha256"):
        W.download_url(src.as_uri(), dest, 3, "0" * 64)
    with pytest.raises(MissingWeightsError, match="expected 4"):
        W.download_url(src.as_uri(), dest, 4, None)
    with pytest.raises(MissingWeightsError, match="could not download"):
        W.download_url((tmp_path / "absent.bin").as_uri(), dest)
    assert list(dest.parent.iterdir()) == []  # no partial files, nothing at dest


def test_download_url_refuses_http_when_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def boom(*a, **k):  # any network attempt fails the test
        raise AssertionError("network was touched")

    monkeypatch.setattr(W.urllib.request, "urlopen", boom)
    t0 = time.perf_counter()
    with pytest.raises(MissingWeightsError, match="offline"):
        W.download_url(NLF_URL, tmp_path / "nlf.torchscript")
    assert time.perf_counter() - t0 < 0.1


def test_resolve_downloads_plain_url_into_first_model_folder(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = b"torchscript stand-in" * 1000
    src = _put(tmp_path / "release" / "nlf.bin", payload)
    spec = dataclasses.replace(
        W.WEIGHTS["nlf"], url=src.as_uri(), size_bytes=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
    )  # fmt: skip
    monkeypatch.setitem(W.WEIGHTS, "nlf", spec)
    models = tmp_path / "models" / "nlf"
    seen: list[tuple[int, int]] = []
    got = W.resolve_weight(
        "nlf", None, [models], allow_download=True, progress=lambda d, t: seen.append((d, t))
    )
    assert got == models / spec.filename and got.read_bytes() == payload
    assert seen[-1] == (len(payload), len(payload))
    # found locally next time, no download
    monkeypatch.setitem(W.WEIGHTS, "nlf", dataclasses.replace(spec, url="http://unused.invalid/x"))
    assert W.resolve_weight("nlf", None, [models]) == got
    # no search dir: downloads go to the user cache
    monkeypatch.setitem(W.WEIGHTS, "nlf", spec)
    assert W.resolve_weight("nlf", allow_download=True) == cache / "nlf" / spec.filename


def _fake_hub(payload: bytes, record: dict):
    def fake_hf_hub_download(repo_id, filename, *, local_dir=None, local_files_only=False, **kw):
        record.update(
            repo_id=repo_id, filename=filename, local_dir=local_dir, offline=local_files_only
        )
        p = Path(local_dir) / filename
        _put(p, payload)
        if kw.get("tqdm_class") is not None:  # the bar huggingface_hub would drive
            bar = kw["tqdm_class"](total=len(payload), disable=True)
            bar.update(len(payload) // 2)
            bar.update(len(payload) - len(payload) // 2)
            bar.close()
        return str(p)

    return fake_hf_hub_download


def test_hub_download_is_checked_and_moved(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    payload = b"onnx stand-in"
    spec = dataclasses.replace(
        W.WEIGHTS["yolox_l"], size_bytes=len(payload), sha256=hashlib.sha256(payload).hexdigest()
    )
    monkeypatch.setitem(W.WEIGHTS, "yolox_l", spec)
    record: dict = {}
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", _fake_hub(payload, record))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    target = tmp_path / "models" / "detection"
    seen: list[tuple[int, int]] = []
    got = W.resolve_weight(
        "yolox_l", None, [target], allow_download=True, progress=lambda d, t: seen.append((d, t))
    )
    assert got == target / "yolox_l.onnx" and got.read_bytes() == payload
    half = len(payload) // 2
    assert seen[:2] == [(half, len(payload)), (len(payload), len(payload))]
    assert record["repo_id"] == "yzd-v/DWPose" and record["filename"] == "yolox_l.onnx"
    assert record["offline"] is False
    assert Path(record["local_dir"]).parent == target  # staged next to the destination
    assert [p.name for p in target.iterdir()] == ["yolox_l.onnx"]  # staging removed


def test_hub_download_bad_file_is_rejected(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    record: dict = {}
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", _fake_hub(b"truncated", record))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    target = tmp_path / "models" / "sam2"
    with pytest.raises(MissingWeightsError, match="incomplete download"):
        W.resolve_weight("sam2.1_tiny", None, [target], allow_download=True)
    assert record["offline"] is True  # offline → local_files_only, never a network call
    assert list(target.iterdir()) == []


def test_found_file_with_wrong_size_is_used_with_a_warning(
    tmp_path: Path, cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    p = _put(tmp_path / "m" / "yolox_l.onnx", b"short")
    with caplog.at_level("WARNING", logger="scail_pose"):
        assert W.resolve_weight("yolox_l", None, [p.parent]) == p
    assert "is 5 bytes but the published yolox_l.onnx is 216746733 bytes" in caplog.text


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG layout is Linux-only")
def test_default_cache_dir_linux(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert W.default_cache_dir() == tmp_path / "scail_pose"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert W.default_cache_dir() == Path.home() / ".cache" / "scail_pose"


def test_verify_file(tmp_path: Path) -> None:
    p = _put(tmp_path / "a.bin", b"hello")
    W.verify_file(p, 5, hashlib.sha256(b"hello").hexdigest())
    assert W.sha256_file(p) == hashlib.sha256(b"hello").hexdigest()
    with pytest.raises(MissingWeightsError, match="expected 6"):
        W.verify_file(p, 6, None)
