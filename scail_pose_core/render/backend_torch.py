"""The torch renderer (CPU and CUDA): exact analytic ray–capsule intersection per pixel.

It reproduces the reference sphere tracer (reference_spec.md §5.2–§5.4) without marching:

* Rays start at the camera origin and go through the **integer** pixel (x, y):
  ``dir = normalise((x − cx)/fx, (y − cy)/fy, 1)``.
* A capsule (radius 21.5 mm; the tracer's hit threshold d < 1e-3 makes the effective radius
  21.501) is intersected analytically: its cylinder body (entry point with axial parameter in
  [0, L]) and its two end spheres; the first entry at t ≥ 0.1 is the hit. A ray
  that starts inside a capsule (camera within the radius) hits at t = 0.1, as in the tracer.
* The nearest hit over **all** capsules of the frame (all persons) wins; an exact tie keeps the
  earlier capsule of the list (key = float32 bits of t, then list index).
* Shading §5.4 with the analytic normal of the hit capsule, each component scaled by the
  float32-rounded central-difference step fl(p + 1e-3) − fl(p − 1e-3) the reference's
  normal estimate effectively uses (this reproduces its systematic shading bias); Blinn-Phong
  exponent 32, the depth factor with the reference's ``depth_far − znear`` denominator,
  ``clip → ×255 → truncate`` to uint8, alpha 204.
* Where the tracer's own limits decide coverage — grazing hits (|n·dir| < 0.05), where its 300
  steps may run out, and hits beyond zfar — the hit is confirmed by running the reference
  float32 sphere tracer on just those rays (union of the nearby capsules).

Cost scales with covered pixels: each capsule is projected conservatively (each endpoint sphere
lies within a disc of radius f·r·(z + |xy|)/(z·(z − r)) around its projected centre) and only the
pixels of each image row within that radius of the projected segment are tested. Capsules reaching to within 1 mm of the camera plane (or
behind it) cannot be projected safely and are tested against the whole frame. Frames are
batched: all (pixel, capsule) pairs of a chunk of frames are evaluated in one vectorised pass and
resolved with one ``scatter_reduce``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .depth import DepthConstants
from .scene import CAPSULE_RADIUS_MM, FrameCapsules

LOGGER = logging.getLogger("scail_pose")

#: The tracer stops when the distance drops below this; the effective radius grows by it.
HIT_EPS = 1e-3
T_START = 0.1
SPEC_POWER = 32
NORMAL_EPS = 1e-3
_KEY_SHIFT = 24  # key = float32 bits of t << 24 | capsule index (chunk-global, < 2**24)
_INT64_MAX = torch.iinfo(torch.int64).max
#: The reference tracer's step budget; grazing hits (|n·dir| below COS_MARCH) are re-checked.
MAX_STEPS = 300
COS_MARCH = 0.05
NEIGHBOUR_MM = 3 * CAPSULE_RADIUS_MM
#: Analytic hits up to this factor beyond zfar are handed to the march check (farther: miss).
ZFAR_SLACK = 2.0
#: Capsules whose nearest point is closer to the camera plane than this are tested full-frame.
NEAR_PLANE_MM = 1.0


@dataclass(frozen=True)
class CameraParams:
    """Intrinsics and the image size (H, W) the rays are cast for."""

    fx: float
    fy: float
    cx: float
    cy: float
    size_hw: tuple[int, int]


class _DirCache:
    """Per-pixel unit ray directions (H·W, 3) float32, cached per camera and device."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._dirs: torch.Tensor | None = None

    def get(self, cam: CameraParams, device: torch.device) -> torch.Tensor:
        key = (cam.fx, cam.fy, cam.cx, cam.cy, cam.size_hw, str(device))
        if self._key != key or self._dirs is None:
            h, w = cam.size_hw
            ys, xs = torch.meshgrid(
                torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                indexing="ij",
            )  # fmt: skip
            d = torch.stack(
                [(xs - np.float32(cam.cx)) / np.float32(cam.fx),
                 (ys - np.float32(cam.cy)) / np.float32(cam.fy), torch.ones_like(xs)], -1,
            )  # fmt: skip
            d = d / torch.linalg.vector_norm(d, dim=-1, keepdim=True)
            self._dirs = d.reshape(-1, 3).contiguous().to(device)
            self._key = key
        return self._dirs


_DIRS = _DirCache()


class _KeyBuffer(threading.local):
    """Reusable per-pixel int64 key buffer (avoids page-faulting a fresh one per chunk)."""

    def __init__(self) -> None:
        self.buf: torch.Tensor | None = None

    def get(self, n: int, device: torch.device) -> torch.Tensor:
        if self.buf is None or self.buf.numel() < n or self.buf.device != device:
            self.buf = torch.empty(n, dtype=torch.int64, device=device)
        out = self.buf[:n]
        out.fill_(_INT64_MAX)
        return out


_KEYS = _KeyBuffer()


@dataclass
class _Chunk:
    """Capsules of a chunk of frames, flattened (M capsules), on the render device."""

    a: torch.Tensor  # (M, 3) start
    b: torch.Tensor  # (M, 3) end
    rgba: torch.Tensor  # (M, 4)
    frame: torch.Tensor  # (M,) int64 frame index within the chunk
    n_frames: int

    @classmethod
    def build(cls, frames: Sequence[FrameCapsules], device: torch.device) -> _Chunk:
        counts = [len(f) for f in frames]
        if sum(counts):
            a = np.concatenate([f.starts for f in frames if len(f)])
            b = np.concatenate([f.ends for f in frames if len(f)])
            c = np.concatenate([f.rgba for f in frames if len(f)])
        else:
            a = b = np.zeros((0, 3), np.float32)
            c = np.zeros((0, 4), np.float32)
        fr = np.repeat(np.arange(len(frames)), counts)

        def t(x: np.ndarray, dt: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.as_tensor(np.ascontiguousarray(x), dtype=dt, device=device)

        return cls(t(a), t(b), t(c), t(fr, torch.int64), len(frames))


def _ragged_arange(counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For counts (K,) → (owner (S,), local index (S,)) with S = counts.sum()."""
    owner = torch.repeat_interleave(torch.arange(counts.numel(), device=counts.device), counts)
    starts = torch.cumsum(counts, 0) - counts
    local = torch.arange(owner.numel(), device=counts.device) - starts[owner]
    return owner, local


def _project(p: torch.Tensor, cam: CameraParams) -> torch.Tensor:
    return torch.stack([cam.fx * p[..., 0] / p[..., 2] + cam.cx,
                        cam.fy * p[..., 1] / p[..., 2] + cam.cy], -1)  # fmt: skip


def cull_pairs(ch: _Chunk, cam: CameraParams, radius: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Screen-space culling: (pixel index into B·H·W, capsule index) pairs to test.

    Per capsule, the image rows of its projected bounding box; per row, the x interval within
    the conservative projected radius of the projected segment. Capsules near/behind the
    camera plane get the whole frame; capsules entirely behind the camera get nothing.
    """
    h, w = cam.size_hw
    dev = ch.a.device
    m = ch.a.shape[0]
    if m == 0:
        z = torch.zeros(0, dtype=torch.int64, device=dev)
        return z, z
    a64, b64 = ch.a.double(), ch.b.double()
    zlo = torch.minimum(a64[:, 2], b64[:, 2]) - radius
    zhi = torch.maximum(a64[:, 2], b64[:, 2]) + radius
    visible = zhi > 0
    full = visible & (zlo <= NEAR_PLANE_MM)
    proj = visible & ~full

    # conservative projected discs around both endpoints: for |δ| <= r,
    # |proj(c + δ) − proj(c)| <= f·r·(c_z + |c_xy|) / (c_z·(c_z − r))
    ends = torch.stack([a64, b64], 1)  # (M, 2, 3)
    safe = ends.clone()
    safe[~proj, :, 2] = 1e6  # keep the maths finite for capsules not projected
    cz = safe[..., 2]
    cxy = torch.linalg.vector_norm(safe[..., :2], dim=-1)
    f = max(cam.fx, cam.fy)
    rk = f * radius * (cz + cxy) / (cz * (cz - radius)) + 0.5  # (M, 2)
    ce = _project(safe, cam)  # (M, 2, 2)
    rad = rk.amax(1)
    umin = (ce[..., 0] - rk).amin(1)
    umax = (ce[..., 0] + rk).amax(1)
    vmin = (ce[..., 1] - rk).amin(1)
    vmax = (ce[..., 1] + rk).amax(1)

    y0 = torch.where(proj, torch.ceil(vmin).clamp(0, h), torch.zeros_like(vmin)).long()
    y1 = torch.where(proj, torch.floor(vmax).clamp(-1, h - 1), torch.full_like(vmin, h - 1)).long()
    nrows = torch.where(visible, (y1 - y0 + 1).clamp(min=0), torch.zeros_like(y0))
    cap, local = _ragged_arange(nrows)
    y = (y0[cap] + local).double()

    ax, ay = ce[cap, 0, 0], ce[cap, 0, 1]
    bx, by = ce[cap, 1, 0], ce[cap, 1, 1]
    r = rad[cap]
    inf = torch.full_like(y, float("inf"))
    lo, hi = inf.clone(), -inf
    for px, py in ((ax, ay), (bx, by)):  # end discs
        dy = y - py
        half = torch.sqrt(torch.clamp(r * r - dy * dy, min=0.0))
        ok = dy.abs() <= r
        lo = torch.where(ok, torch.minimum(lo, px - half), lo)
        hi = torch.where(ok, torch.maximum(hi, px + half), hi)
    # the band around the segment: |cross| <= r·|d| and 0 <= dot <= |d|²
    dx, dyy = bx - ax, by - ay
    len2 = dx * dx + dyy * dyy
    dl = torch.sqrt(len2)
    blo, bhi = -inf, inf.clone()
    band_ok = len2 > 1e-6
    ry = y - ay
    # constraints alpha·x <= beta
    for alpha, beta in (
        (-dx, -ax * dx + ry * dyy),
        (dx, len2 + ax * dx - ry * dyy),
        (dyy, r * dl + ax * dyy + ry * dx),
        (-dyy, r * dl - ax * dyy - ry * dx),
    ):
        pos, neg = alpha > 1e-12, alpha < -1e-12
        q = beta / torch.where(pos | neg, alpha, torch.ones_like(alpha))
        bhi = torch.where(pos, torch.minimum(bhi, q), bhi)
        blo = torch.where(neg, torch.maximum(blo, q), blo)
        band_ok = band_ok & ((pos | neg) | (beta >= 0))
    band_ok = band_ok & (blo <= bhi)
    lo = torch.where(band_ok, torch.minimum(lo, blo), lo)
    hi = torch.where(band_ok, torch.maximum(hi, bhi), hi)
    lo = torch.maximum(lo, umin[cap])
    hi = torch.minimum(hi, umax[cap])
    is_full = full[cap]
    x0 = torch.where(is_full, torch.zeros_like(lo), torch.ceil(lo).clamp(0, w)).long()
    x1 = torch.where(is_full, torch.full_like(hi, w - 1), torch.floor(hi).clamp(-1, w - 1)).long()
    xcount = (x1 - x0 + 1).clamp(min=0)
    row, xloc = _ragged_arange(xcount)
    capk = cap[row]
    pix = ch.frame[capk] * (h * w) + y[row].long() * w + x0[row] + xloc
    return pix, capk


def trace_pairs(
    ch: _Chunk,
    cam: CameraParams,
    pix: torch.Tensor,
    capk: torch.Tensor,
    radius: float,
    zfar: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Analytic first hit of each pair's ray with its capsule.

    Works with the unnormalised direction e = ((x − cx)/fx, (y − cy)/fy, 1) and per-capsule
    constants, so every per-pair quantity is a scalar; distances to axes come from cross
    products (no cancellation of large squares in float32).

    Returns (t (P,) float32 ray length of the hit, hit (P,) bool).
    """
    h, w = cam.size_hw
    f32 = np.float32
    q = pix % (h * w)
    xs = (q % w).to(torch.float32)
    ys = (q // w).to(torch.float32)
    ex = (xs - f32(cam.cx)) / f32(cam.fx)
    ey = (ys - f32(cam.cy)) / f32(cam.fy)
    ee = ex * ex + ey * ey + 1.0

    a, b = ch.a, ch.b
    ab = b - a
    length = torch.linalg.vector_norm(ab, dim=-1)
    u = torch.where(
        length[:, None] > 1e-8, ab / length.clamp(min=1e-30)[:, None], torch.zeros_like(ab)
    )
    au = (a * u).sum(-1)
    wc = -a + au[:, None] * u  # origin offset from the axis, perpendicular to it
    wxu = torch.linalg.cross(wc, u)
    r2 = f32(radius * radius)
    # per-capsule constants, one column each, gathered per pair
    consts = torch.cat([u, wc, wxu, a, b, au[:, None], length[:, None]], 1).T.contiguous()[:, capk]
    ux, uy, uz, wx, wy, wz, kx, ky, kz, ax, ay, az, bx, by, bz, auk, lk = consts.unbind(0)

    eu = ex * ux + ey * uy + uz
    vv = ee - eu * eu
    we = ex * wx + ey * wy + wz
    c1 = (wy - wz * ey) - eu * kx
    c2 = (wz * ex - wx) - eu * ky
    c3 = (wx * ey - wy * ex) - eu * kz
    disc = r2 * vv - (c1 * c1 + c2 * c2 + c3 * c3)
    tc = (-we - torch.sqrt(disc.clamp(min=0))) / vv.clamp(min=1e-20)
    hax = tc * eu - auk
    t_min = f32(T_START) / torch.sqrt(ee)  # t' (units of e) of the tracer's start point
    ok = (vv > 1e-12) & (disc >= 0) & (hax >= 0) & (hax <= lk) & (tc >= t_min)
    t = torch.where(ok, tc, torch.full_like(tc, float("inf")))
    for cx_, cy_, cz_ in ((ax, ay, az), (bx, by, bz)):
        ec = ex * cx_ + ey * cy_ + cz_
        s1 = ey * cz_ - cy_
        s2 = cx_ - ex * cz_
        s3 = ex * cy_ - ey * cx_
        ds = r2 * ee - (s1 * s1 + s2 * s2 + s3 * s3)
        ts = (ec - torch.sqrt(ds.clamp(min=0))) / ee
        t = torch.where((ds >= 0) & (ts >= t_min) & (ts < t), ts, t)
    t = t * torch.sqrt(ee)  # ray length along the unit direction
    # a ray starting inside a capsule (camera within its radius) hits at once, at t = 0.1
    near = _segment_origin_distance(a, u, length) < radius + 1.0
    if bool(near.any()):
        sel = near[capk].nonzero().squeeze(1)
        if sel.numel():
            d = torch.stack([ex[sel], ey[sel], torch.ones_like(ex[sel])], 1)
            p0 = d / torch.sqrt(ee[sel])[:, None] * f32(T_START)
            ks = capk[sel]
            sd = _capsule_sdf(p0, a[ks], u[ks], length[ks], radius)
            t[sel] = torch.where(sd < HIT_EPS, torch.full_like(sd, f32(T_START)), t[sel])
    # hits beyond zfar are kept here; resolve_and_shade lets the reference march decide them
    return t, t <= zfar * ZFAR_SLACK


def _segment_origin_distance(
    a: torch.Tensor, u: torch.Tensor, length: torch.Tensor
) -> torch.Tensor:
    hh = ((-a) * u).sum(-1).clamp(min=0)
    hh = torch.minimum(hh, length)
    return torch.linalg.vector_norm(-a - hh[:, None] * u, dim=-1)


def _capsule_sdf(
    p: torch.Tensor, a: torch.Tensor, u: torch.Tensor, length: torch.Tensor, radius: float
) -> torch.Tensor:
    pa = p - a
    hh = torch.minimum((pa * u).sum(-1).clamp(min=0), length)
    return torch.linalg.vector_norm(pa - hh[..., None] * u, dim=-1) - np.float32(radius)


def resolve_and_shade(
    ch: _Chunk,
    dirs: torch.Tensor,
    pix: torch.Tensor,
    capk: torch.Tensor,
    t: torch.Tensor,
    hit: torch.Tensor,
    depth: DepthConstants,
    cam: CameraParams,
    radius: float = CAPSULE_RADIUS_MM,
) -> torch.Tensor:
    """Nearest hit per pixel (ties → earlier capsule), shading §5.4 → (B, H, W, 4) uint8.

    ``radius`` is the capsule radius the reference tracer uses (for the march checks)."""
    h, w = cam.size_hw
    n_pix = ch.n_frames * h * w
    out = torch.zeros((n_pix, 4), dtype=torch.uint8, device=dirs.device)
    if not bool(hit.any()):
        return out.reshape(ch.n_frames, h, w, 4)
    pix, capk, t = pix[hit], capk[hit], t[hit]
    key = (t.view(torch.int32).to(torch.int64) << _KEY_SHIFT) | capk
    best = _KEYS.get(n_pix, dirs.device)
    best.scatter_reduce_(0, pix, key, reduce="amin", include_self=True)
    win = best[pix] == key  # exactly one winning pair per covered pixel (keys are unique)
    px, kb = pix[win], key[win]
    k = kb & ((1 << _KEY_SHIFT) - 1)
    th = (kb >> _KEY_SHIFT).to(torch.int32).view(torch.float32)
    f32 = np.float32
    q = px % (h * w)
    ex = ((q % w).to(torch.float32) - f32(cam.cx)) / f32(cam.fx)
    ey = ((q // w).to(torch.float32) - f32(cam.cy)) / f32(cam.fy)
    inv = torch.rsqrt(ex * ex + ey * ey + 1.0)
    dx, dy, dz = ex * inv, ey * inv, inv  # unit ray direction
    ab = ch.b - ch.a
    length = torch.linalg.vector_norm(ab, dim=-1)
    u = torch.where(
        length[:, None] > 1e-8, ab / length.clamp(min=1e-30)[:, None], torch.zeros_like(ab)
    )
    ax, ay, az, ux, uy, uz, lk = torch.cat([ch.a, u, length[:, None]], 1).T.contiguous()[:, k]
    pz = th * dz
    pax, pay, paz = th * dx - ax, th * dy - ay, pz - az  # hit point relative to a
    hh = torch.minimum((pax * ux + pay * uy + paz * uz).clamp(min=0), lk)
    nx, ny, nz = pax - hh * ux, pay - hh * uy, paz - hh * uz  # outward normal (unnormalised)
    # The reference's normal is a float32 central difference with e = 1e-3 mm: along each
    # axis the sdf difference is taken over fl(p + e) − fl(p − e), not 2e, which scales each
    # component by that rounded step (e.g. ×0.977 for z in [512, 16384) mm, ×~2 beyond).
    e = f32(NORMAL_EPS)
    for comp, coord in ((0, th * dx), (1, th * dy), (2, pz)):
        step = (coord + e) - (coord - e)
        if comp == 0:
            nx = nx * step
        elif comp == 1:
            ny = ny * step
        else:
            nz = nz * step
    inv_n = torch.rsqrt((nx * nx + ny * ny + nz * nz).clamp(min=1e-30))
    nx, ny, nz = nx * inv_n, ny * inv_n, nz * inv_n
    diff = torch.clamp(-nz, min=0)
    # Blinn-Phong half vector normalise(−dir − (0, 0, 1))
    hz = -dz - 1.0
    inv_h = torch.rsqrt(dx * dx + dy * dy + hz * hz)
    spec = torch.clamp((-nx * dx - ny * dy + nz * hz) * inv_h, min=0) ** SPEC_POWER
    dfac = 1.0 - (pz - f32(depth.depth_near)) / (f32(depth.depth_far) - f32(depth.znear))
    dfac = dfac.clamp(0.0, 1.0)
    # grazing hits: the reference's 300-step tracer may run out of steps before converging;
    # hits beyond zfar: the tracer only reaches them if its last step before zfar lands there
    graze = ((nx * dx + ny * dy + nz * dz).abs() < COS_MARCH) | (th > f32(depth.zfar))
    if bool(graze.any()):
        gi = graze.nonzero().squeeze(1)
        d = torch.stack([dx[gi], dy[gi], dz[gi]], 1)
        ok = march_confirm(ch, d, th[gi], k[gi], depth.zfar, radius=radius)
        keep = torch.ones_like(graze)
        keep[gi] = ok
        if not bool(keep.all()):
            px, k, diff, spec, dfac = (x[keep] for x in (px, k, diff, spec, dfac))
    col = ch.rgba[k]
    shade = (0.3 + 0.7 * diff) * dfac
    rgb = col[:, :3] * shade[:, None] + (0.5 * spec * dfac)[:, None]
    rgb8 = (rgb.clamp(0.0, 1.0) * 255.0).to(torch.uint8)
    a8 = (col[:, 3].clamp(0.0, 1.0) * 255.0).to(torch.uint8)
    out[px] = torch.cat([rgb8, a8[:, None]], 1)
    return out.reshape(ch.n_frames, h, w, 4)


def march_confirm(
    ch: _Chunk,
    d: torch.Tensor,
    t_hit: torch.Tensor,
    cap: torch.Tensor,
    zfar: float,
    radius: float = CAPSULE_RADIUS_MM,
    max_steps: int = MAX_STEPS,
    use_numpy: bool | None = None,
) -> torch.Tensor:
    """Run the reference sphere tracer (float32) for rays ``d`` (R, 3) whose analytic hit is
    at ``t_hit`` (R,) on capsule ``cap`` (R,); True where it hits within ``max_steps``.

    The scene distance is the union of the capsules of the ray's frame that come within
    ``NEIGHBOUR_MM`` of the analytic hit point (the hit capsule and its neighbours at joints);
    farther capsules cannot shorten the tracer's steps near the surface. ``use_numpy``: the
    CPU implementation (default on CPU) instead of the masked torch loop (default on CUDA).
    """
    dev = d.device
    frame = ch.frame[cap]
    counts = torch.bincount(ch.frame, minlength=ch.n_frames)
    kmax = int(counts.max())
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.arange(kmax, device=dev)
    gidx = starts[frame][:, None] + slot[None, :]  # (R, kmax) capsules of each ray's frame
    valid = slot[None, :] < counts[frame][:, None]
    gidx = torch.where(valid, gidx, cap[:, None])
    ab = ch.b - ch.a
    length = torch.linalg.vector_norm(ab, dim=-1)
    u = torch.where(
        length[:, None] > 1e-8, ab / length.clamp(min=1e-30)[:, None], torch.zeros_like(ab)
    )
    p = t_hit[:, None] * d
    sd = _capsule_sdf(p[:, None, :], ch.a[gidx], u[gidx], length[gidx], radius)
    sd = torch.where(valid, sd, torch.full_like(sd, float("inf")))
    order = torch.argsort(sd, dim=1)
    keff = max(1, int((sd < NEIGHBOUR_MM).sum(1).max()))
    sel = torch.gather(gidx, 1, order[:, :keff])  # (R, keff), the hit capsule first
    ra, ru, rl = ch.a[sel], u[sel], length[sel]
    if (
        use_numpy if use_numpy is not None else dev.type == "cpu"
    ):  # small arrays, many steps: numpy avoids per-op thread sync costs
        hit_np = _march_numpy(
            d.numpy(), ra.numpy(), ru.numpy(), rl.numpy(), zfar, radius, max_steps
        )
        return torch.from_numpy(hit_np)
    # GPU: fixed-shape masked steps, no host synchronisation except every 32 steps
    n = d.shape[0]
    hit = torch.zeros(n, dtype=torch.bool, device=dev)
    active = torch.ones(n, dtype=torch.bool, device=dev)
    t = torch.full((n,), np.float32(T_START), device=dev)
    r = np.float32(radius)
    for step in range(max_steps):
        pa = (t[:, None] * d)[:, None, :] - ra
        hh = torch.minimum((pa * ru).sum(-1).clamp(min=0), rl)
        dist = (torch.linalg.vector_norm(pa - hh[..., None] * ru, dim=-1) - r).amin(1)
        is_hit = active & (dist < HIT_EPS)
        hit |= is_hit
        active &= ~is_hit & ~(t > zfar)
        t = torch.where(active, t + torch.clamp(dist, min=np.float32(1e-4)), t)
        if step % 32 == 31 and not bool(active.any()):
            break
    return hit


def _march_numpy(
    d: np.ndarray,
    a: np.ndarray,
    u: np.ndarray,
    length: np.ndarray,
    zfar: float,
    radius: float,
    max_steps: int,
) -> np.ndarray:
    """The float32 sphere tracer of :func:`march_confirm` in numpy (CPU)."""
    f32 = np.float32
    n = d.shape[0]
    hit = np.zeros(n, bool)
    ids = np.arange(n)
    t = np.full(n, f32(T_START), f32)
    r, eps, step_min, zf = f32(radius), f32(HIT_EPS), f32(1e-4), f32(zfar)
    for _ in range(max_steps):
        if ids.size == 0:
            break
        pa = (t[:, None] * d)[:, None, :] - a
        hh = np.minimum(np.maximum(np.einsum("rkc,rkc->rk", pa, u), f32(0)), length)
        v = pa - hh[..., None] * u
        dist = (np.sqrt(np.einsum("rkc,rkc->rk", v, v)) - r).min(1)
        is_hit = dist < eps
        hit[ids[is_hit]] = True
        go = ~(is_hit | (t > zf))
        t = (t + np.maximum(dist, step_min))[go]
        ids, d, a, u, length = ids[go], d[go], a[go], u[go], length[go]
    return hit


def render_chunk_torch(
    frames: Sequence[FrameCapsules],
    cam: CameraParams,
    depth: DepthConstants | None,
    device: str | torch.device = "cpu",
    radius: float = CAPSULE_RADIUS_MM,
) -> torch.Tensor:
    """Render a chunk of frames → (B, H, W, 4) uint8 RGBA on ``device`` (no 2D overlay).

    ``depth`` is the video-global :class:`DepthConstants` (``None`` only if no frame of the
    whole video has a capsule: everything renders transparent black).
    """
    dev = torch.device(device)
    h, w = cam.size_hw
    if depth is None or sum(len(f) for f in frames) == 0:
        return torch.zeros((len(frames), h, w, 4), dtype=torch.uint8, device=dev)
    ch = _Chunk.build(frames, dev)
    dirs = _DIRS.get(cam, dev)
    r_eff = radius + HIT_EPS
    pix, capk = cull_pairs(ch, cam, r_eff)
    t, hit = trace_pairs(ch, cam, pix, capk, r_eff, depth.zfar)
    return resolve_and_shade(ch, dirs, pix, capk, t, hit, depth, cam, radius)
