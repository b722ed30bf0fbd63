"""Latent-space math for the studio's Latent tab, in numpy (no Qt, no TensorFlow).

The explorer shows three views of one noise batch: the grid (the noise itself), an interpolation strip from
sample A to sample B, and one sample moved along random orthonormal directions. `view_batch` puts every latent
those views need into one batch, so the generator is called once per update (on the training thread through a
'generate' request while a session is alive, else in a background task from a checkpoint), and `split_views`
cuts the images back apart.

Directions are random orthonormal vectors (seeded QR of a Gaussian matrix): PCA over random z ~ N(0, I) has no
preferred axes, so it would be just as arbitrary and more expensive.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..core.fileio import atomic_write_bytes
from ..core.imaging import gif_bytes, make_grid, png_bytes, to_pil

N_DIRECTIONS = 4
DIRECTION_SEED = 1234
REROLL_SEED = 10_000      # re-roll k draws its noise from default_rng(REROLL_SEED + k)


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    t = np.asarray(t, np.float64)[:, None]
    return ((1.0 - t) * a[None, :] + t * b[None, :]).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation of the vectors (norms interpolated linearly); falls back to lerp when parallel."""
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    na, nb = np.linalg.norm(a64), np.linalg.norm(b64)
    if na == 0 or nb == 0:
        return lerp(a, b, t)
    ua, ub = a64 / na, b64 / nb
    omega = np.arccos(np.clip(np.dot(ua, ub), -1.0, 1.0))
    if omega < 1e-6:
        return lerp(a, b, t)
    t = np.asarray(t, np.float64)[:, None]
    so = np.sin(omega)
    dirs = (np.sin((1.0 - t) * omega) / so) * ua[None, :] + (np.sin(t * omega) / so) * ub[None, :]
    return (dirs * ((1.0 - t) * na + t * nb)).astype(np.float32)


def interpolate(a: np.ndarray, b: np.ndarray, steps: int, mode: str = "slerp") -> np.ndarray:
    """(steps, dim) latents from a to b inclusive; the endpoints are exactly a and b."""
    t = np.linspace(0.0, 1.0, steps)
    z = slerp(a, b, t) if mode == "slerp" else lerp(a, b, t)
    z[0], z[-1] = a, b
    return z


def orthonormal_directions(dim: int, k: int, seed: int = DIRECTION_SEED) -> np.ndarray:
    """(k, dim) random orthonormal rows (k <= dim), reproducible for a seed."""
    k = min(k, dim)
    g = np.random.default_rng(seed).standard_normal((dim, k))
    q, r = np.linalg.qr(g)
    q *= np.sign(np.diag(r))[None, :]       # unique up to sign otherwise
    return q.T.astype(np.float32)


def reroll_noise(shape: tuple[int, ...], k: int) -> np.ndarray:
    return np.random.default_rng(REROLL_SEED + k).standard_normal(shape).astype(np.float32)


def view_batch(noise: np.ndarray, labels: np.ndarray | None, params: dict[str, Any]
               ) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
    """(latents, labels, extras) for one explorer update: the n noise rows, the A->B strip (params 'steps'
    latents, 'mode' slerp|linear) and the chosen sample 'move' with its copy moved by 'offsets' along the
    directions. Conditional strips keep A's class and the moved pair keeps the sample's class."""
    noise = np.asarray(noise, np.float32)
    n = len(noise)
    a, b, i = (min(max(int(params[k]), 0), n - 1) for k in ("a", "b", "move"))
    strip_z = interpolate(noise[a], noise[b], int(params["steps"]), params["mode"])
    dirs = orthonormal_directions(noise.shape[1], N_DIRECTIONS)
    moved_z = noise[i] + np.asarray(params["offsets"][:len(dirs)], np.float32) @ dirs
    z = np.concatenate([noise, strip_z, noise[i][None], moved_z[None]])
    y = None if labels is None else np.concatenate(
        [labels, np.full(len(strip_z), labels[a]), np.full(2, labels[i])]).astype(np.int32)
    return z, y, {"strip_z": strip_z, "moved_z": moved_z}


def split_views(images: np.ndarray, n: int, steps: int) -> dict[str, np.ndarray]:
    """The generated images of a `view_batch` back as the grid, the strip and the (chosen, moved) pair."""
    if len(images) != n + steps + 2:
        raise ValueError(f"expected {n + steps + 2} images, got {len(images)}")
    return {"grid_images": images[:n], "strip": images[n:n + steps], "moved": images[n + steps:]}


def strip_image(images: np.ndarray) -> np.ndarray:
    """One row mosaic of (N, H, W, C) images, as exported to PNG."""
    return make_grid(images, rows=1)


def save_strip_png(images: np.ndarray, path: str | Path, scale: int = 1) -> Path:
    path = Path(path)
    atomic_write_bytes(path, png_bytes(strip_image(images), scale))
    return path


def save_strip_gif(images: np.ndarray, path: str | Path, scale: int = 4, ms: int = 120) -> Path:
    """One frame per strip image, looping."""
    path = Path(path)
    atomic_write_bytes(path, gif_bytes([to_pil(img, scale) for img in images], ms))
    return path
