"""Image grids in numpy + PIL (no TensorFlow, no Qt): used by the run folder, the CLI and the GUI."""
from __future__ import annotations

import errno
import io
import math
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

from .fileio import atomic_write_bytes


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Generator output in [-1, 1] -> uint8 [0, 255] (the tutorial's `x * 127.5 + 127.5`)."""
    return np.clip(np.rint(np.asarray(images, np.float32) * 127.5 + 127.5), 0, 255).astype(np.uint8)


def grid_shape(n: int, rows: int = 0) -> tuple[int, int]:
    rows = rows or int(math.floor(math.sqrt(n)))
    rows = max(1, min(rows, n))
    return rows, math.ceil(n / rows)


def make_grid(images: np.ndarray, rows: int = 0, pad: int = 2, pad_value: int = 32) -> np.ndarray:
    """uint8 (N, H, W, C) -> one uint8 (rows*H + pad, cols*W + pad, C) mosaic, row-major."""
    n, h, w, c = images.shape
    rows, cols = grid_shape(n, rows)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), pad_value, np.uint8)
    for i in range(n):
        r, k = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + k * (w + pad)
        out[y:y + h, x:x + w] = images[i]
    return out


def grid_index(x: float, y: float, n: int, h: int, w: int, rows: int = 0, pad: int = 2) -> int | None:
    """The sample under pixel (x, y) of a `make_grid` mosaic of n (h, w) images, or None on padding/outside."""
    rows, cols = grid_shape(n, rows)
    c, r = (x - pad) / (w + pad), (y - pad) / (h + pad)
    if not (0 <= c < cols and 0 <= r < rows) or (x - pad) % (w + pad) >= w or (y - pad) % (h + pad) >= h:
        return None
    i = int(r) * cols + int(c)
    return i if i < n else None


def grid_cell(grid: np.ndarray, i: int, n: int, rows: int = 0, pad: int = 2) -> np.ndarray:
    """Sample i cut back out of a `make_grid` mosaic of n images (its image size follows from the mosaic's)."""
    rows, cols = grid_shape(n, rows)
    h, w = (grid.shape[0] - pad) // rows - pad, (grid.shape[1] - pad) // cols - pad
    r, c = divmod(i, cols)
    y, x = pad + r * (h + pad), pad + c * (w + pad)
    return grid[y:y + h, x:x + w]


def to_pil(grid: np.ndarray, scale: int = 1) -> Image.Image:
    img = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    return img


def png_bytes(grid: np.ndarray, scale: int = 1) -> bytes:
    buf = io.BytesIO()
    to_pil(grid, scale).save(buf, format="PNG")
    return buf.getvalue()


def gif_bytes(frames: list[Image.Image], ms: int) -> bytes:
    """A looping animated GIF of the frames, `ms` milliseconds each (callers write it with atomic_write_bytes)."""
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=ms, loop=0)
    return buf.getvalue()


def save_grid(images: np.ndarray, path: str | Path, rows: int = 0, scale: int = 1, pad: int = 2) -> Path:
    """Write a grid PNG atomically (temp file + rename): a crash never leaves a half-written image."""
    path = Path(path)
    atomic_write_bytes(path, png_bytes(make_grid(images, rows, pad=pad), scale))
    return path


@contextmanager
def open_image(path: str | Path) -> Iterator[Image.Image]:
    """Image.open with the decompression-bomb guard as a hard error from Image.MAX_IMAGE_PIXELS up (PIL only warns
    up to twice that). Checked on the header, before any pixel is decoded; no warnings filter is touched, so it is
    safe in any thread. Dataset images and run-folder PNGs both open through here."""
    with Image.open(path) as im:
        limit = Image.MAX_IMAGE_PIXELS
        if limit and im.width * im.height > limit:
            raise Image.DecompressionBombError(f"{im.width}x{im.height} px is over the decompression-bomb limit "
                                               f"of {limit:,} pixels")
        yield im


def load_png(path: str | Path) -> np.ndarray:
    """A run-folder image as uint8 (H, W, C). A decompression bomb raises OSError, which every reader reports."""
    try:
        with open_image(path) as im:
            arr = np.asarray(im)
    except Image.DecompressionBombError as e:
        raise OSError(errno.EFBIG, f"{path}: {e}") from None
    return arr[..., None] if arr.ndim == 2 else arr
