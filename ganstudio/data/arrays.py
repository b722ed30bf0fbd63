"""A dataset in memory: the Dataset record (uint8 NHWC images, labels) that every source returns, and the memory
budget each source checks before it allocates (datasets.py's files and arrays, folder.py's image folders)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import DataError


@dataclass
class Dataset:
    """Images as uint8 [0, 255], shape (N, H, W, C); labels (N,) int or None."""
    name: str
    images: np.ndarray
    labels: np.ndarray | None = None
    class_names: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)   # e.g. skipped files; shown to the user, not fatal

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def summary(self) -> str:
        h, w, c = self.shape
        return f"{self.name}: {len(self):,} images, {h}x{w}x{c}, uint8 [0, 255]"

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels) if self.labels is not None and len(self.labels) else np.zeros(0, int)


def memory_budget() -> int:
    """Bytes one dataset may take: half the machine's physical memory (the trainer keeps a second copy as a tensor).
    Headers that claim more are refused before anything is allocated."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, OSError, ValueError):   # no sysconf (Windows): assume a 32 GiB machine
        return 16 << 30


def check_claim(where: str, nbytes: int, fix: str) -> None:
    budget = memory_budget()
    if nbytes > budget:
        raise DataError(f"{where}: needs {nbytes / 2**30:,.1f} GiB, more than the {budget / 2**30:,.1f} GiB a dataset "
                        f"may use on this machine (half its memory); {fix}")
