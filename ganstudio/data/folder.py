"""Image folders -> a cached, memory-mapped uint8 array.

Scanning is recursive and symlink-loop safe; first-level subfolders become class labels when every image lives
in one. Images are converted to grayscale or RGB and resized to a square (centre crop or pad). The decoded
array is cached as .npy under the user's cache dir, keyed by the files' names, sizes and mtimes plus the
settings, and opened with mmap: a 50k-image folder is decoded once and never held in RAM twice.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..core.errors import DataError
from ..core.fileio import atomic_write_text
from ..core.imaging import open_image
from .arrays import Dataset, check_claim

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
MIN_SIDE = 4
MAX_FILES = 1_000_000   # a scan stops here instead of listing (and hashing) a whole disk
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
Progress = Callable[[int, int], None]


def cache_dir() -> Path:
    if os.environ.get("GANSTUDIO_CACHE"):
        return Path(os.environ["GANSTUDIO_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ganstudio" / "datasets"


def scan(root: Path) -> tuple[list[Path], list[str]]:
    """Image files under root (sorted), plus warnings about unreadable folders. Follows symlinks, never loops."""
    files: list[Path] = []
    problems: list[str] = []
    seen: set[str] = set()

    def onerror(e: OSError) -> None:
        problems.append(f"{e.filename}: cannot list folder ({e.strerror})")

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=onerror):
        real = os.path.realpath(dirpath)
        if real in seen:            # a symlink loop or a second link to the same folder
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        files += [Path(dirpath) / f for f in sorted(filenames)
                  if not f.startswith(".") and Path(f).suffix.lower() in EXTENSIONS]
        if len(files) > MAX_FILES:
            raise DataError(f"{root}: more than {MAX_FILES:,} image files; point at a smaller folder or pack the "
                            f"images into an .npz")
    return files, problems


def _decode(path: Path, size: int, rgb: bool, resize: str) -> np.ndarray:
    """One image -> uint8 (size, size, 1|3). Raises ValueError with a short reason for bad files."""
    if path.stat().st_size == 0:
        raise ValueError("empty file")
    with open_image(path) as im:
        if im.format == "JPEG":
            im.draft("RGB" if rgb else "L", (size * 2, size * 2))   # decode huge JPEGs at reduced size
        im.load()
        if min(im.size) < MIN_SIDE:
            raise ValueError(f"too small ({im.width}x{im.height} px)")
        if im.mode.startswith("I;16") or im.mode in ("I", "F"):
            arr = np.asarray(im, dtype=np.float32)
            top = 65535.0 if arr.max() > 255 else 255.0
            im = Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8), "L")
        im = im.convert("RGB" if rgb else "L")
    w, h = im.size
    if resize == "crop":
        s = min(w, h)
        im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    else:
        s = max(w, h)
        canvas = Image.new(im.mode, (s, s))
        canvas.paste(im, ((s - w) // 2, (s - h) // 2))
        im = canvas
    im = im.resize((size, size), Image.BICUBIC, reducing_gap=3.0)
    arr = np.asarray(im, dtype=np.uint8)
    return arr[..., None] if arr.ndim == 2 else arr


def _wants_rgb(files: list[Path]) -> bool:
    """'auto' colour: RGB if any of the first 256 images is not a grayscale mode (headers only, fast)."""
    for p in files[:256]:
        try:
            with Image.open(p) as im:
                if im.mode not in GRAY_MODES:
                    return True
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
            continue
    return False


def load_folder(root: Path, size: int, color: str = "auto", resize: str = "crop", bad_images: str = "skip",
                progress: Progress | None = None):

    files, problems = scan(root)
    if not files:
        entries = [p for p in root.rglob("*") if p.is_file()] if os.access(root, os.R_OK | os.X_OK) else []
        if problems:
            raise DataError(f"{root}: {problems[0]}; fix its permissions (chmod +rx)")
        if not entries:
            raise DataError(f"{root}: folder is empty; put PNG/JPEG/BMP/WebP images in it")
        kinds = sorted({p.suffix.lower() or "(no extension)" for p in entries})[:5]
        raise DataError(f"{root}: no images among {len(entries)} files ({', '.join(kinds)}); supported: "
                        f"{', '.join(sorted(EXTENSIONS))}")
    rel = [p.relative_to(root) for p in files]
    labelled = all(len(r.parts) >= 2 for r in rel)
    class_names = tuple(sorted({r.parts[0] for r in rel})) if labelled else ()
    rgb = color == "rgb" or (color == "auto" and _wants_rgb(files))
    check_claim(str(root), len(files) * size * size * (3 if rgb else 1),
                "lower the resolution or train on a subfolder")

    h = hashlib.sha256(json.dumps([str(root.resolve()), size, rgb, resize, bad_images]).encode())
    for p in files:
        try:
            st = p.stat()
            h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        except OSError:
            h.update(f"{p}\0missing\n".encode())
    key = h.hexdigest()[:20]
    cdir = cache_dir()
    npy, meta_file = cdir / f"folder-{key}.npy", cdir / f"folder-{key}.json"
    notes = [f"{len(files):,} image files under {root}" + (f" in {len(class_names)} class folders" if labelled else "")]
    notes += problems
    if npy.exists() and meta_file.exists():
        meta = json.loads(meta_file.read_text())
        images = np.load(npy, mmap_mode="r")
        notes.append(f"decoded images from the cache {npy}")
    else:
        images, meta = _decode_all(files, rel, size, rgb, resize, bad_images, cdir, npy, progress)
        atomic_write_text(meta_file, json.dumps(meta))
    kept = meta["kept"]
    labels = np.array([class_names.index(rel[i].parts[0]) for i in kept], np.int64) if labelled else None
    warn = []
    if meta["skipped"]:
        shown = "; ".join(f"{name} ({why})" for name, why in meta["skipped"][:3])
        warn.append(f"skipped {len(meta['skipped'])} of {len(files)} images that could not be used: {shown}"
                    + (" ..." if len(meta["skipped"]) > 3 else "") + " (set bad_images=fail to stop instead)")
    if not kept:
        raise DataError(f"{root}: none of the {len(files)} images could be read ({meta['skipped'][0][1]} in "
                        f"{meta['skipped'][0][0]})")
    return Dataset(root.name, images, labels, class_names, notes, warn)


def _decode_all(files, rel, size, rgb, resize, bad_images, cdir: Path, npy: Path, progress: Progress | None):
    c = 3 if rgb else 1
    try:
        cdir.mkdir(parents=True, exist_ok=True)
        tmp = npy.with_name(f".{npy.name}.{os.getpid()}.tmp")
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(files), size, size, c))
    except OSError as e:
        raise DataError(f"{cdir}: cannot write the dataset cache ({e.strerror}); set GANSTUDIO_CACHE to a "
                        f"writable folder") from None
    kept, skipped = [], []
    for i, p in enumerate(files):
        try:
            out[len(kept)] = _decode(p, size, rgb, resize)
            kept.append(i)
        except PermissionError:
            why = "permission denied"
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as e:
            why = _reason(e)
        else:
            why = None
        if why is not None:
            if bad_images == "fail":
                del out
                tmp.unlink(missing_ok=True)
                raise DataError(f"{p}: cannot use this image ({why}); remove it, or set bad_images=skip to skip "
                                f"bad files with a warning")
            skipped.append((str(rel[i]), why))
        if progress is not None and (i % 64 == 0 or i == len(files) - 1):
            progress(i + 1, len(files))
    out.flush()
    del out
    if len(kept) != len(files):        # shrink the file to the images actually kept
        full = np.load(tmp, mmap_mode="r")
        np.save(npy, np.asarray(full[:len(kept)]))
        del full
        tmp.unlink()
    else:
        os.replace(tmp, npy)
    return np.load(npy, mmap_mode="r"), {"kept": kept, "skipped": skipped}


def _reason(e: Exception) -> str:
    if isinstance(e, Image.DecompressionBombError):
        return "too large (decompression-bomb guard)"
    if isinstance(e, UnidentifiedImageError):
        return "not an image PIL can read"
    text = str(e) or type(e).__name__
    if "truncated" in text.lower():
        return "truncated file"
    return text.split("\n")[0][:80]
