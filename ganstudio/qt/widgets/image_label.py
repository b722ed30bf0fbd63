"""A label that shows a uint8 image at the largest integer zoom that fits (nearest neighbour: crisp pixels, aspect
kept), and reports clicks in image pixels. The sample grid and the latent explorer use it."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


def to_qimage(img: np.ndarray) -> QImage:
    img = np.ascontiguousarray(img)
    h, w = img.shape[:2]
    if img.ndim == 2 or img.shape[-1] == 1:
        g = np.ascontiguousarray(img.reshape(h, w))
        return QImage(g.data, w, h, w, QImage.Format_Grayscale8).copy()
    return QImage(img.data, w, h, 3 * w, QImage.Format_RGB888).copy()


class ImageLabel(QLabel):
    clickedAt = Signal(float, float, object)   # x, y in image pixels, mouse button

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(placeholder, parent)
        self.placeholder = placeholder
        self.setAlignment(Qt.AlignCenter)
        self.setMinimumSize(64, 48)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setStyleSheet("background: palette(base); color: palette(mid);")   # qt/theme.py recolours it
        self.array: np.ndarray | None = None
        self.scale = 1
        self._pixmap: QPixmap | None = None     # the unscaled image, converted once per set_array

    def set_array(self, img: np.ndarray | None) -> None:
        self.array = img
        self._pixmap = None if img is None else QPixmap.fromImage(to_qimage(img))
        self._rescale()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self.array is None:
            self.setPixmap(QPixmap())
            self.setText(self.placeholder)
            return
        h, w = self.array.shape[:2]
        self.scale = max(1, min(self.width() // max(w, 1), self.height() // max(h, 1)))
        self.setPixmap(self._pixmap.scaled(w * self.scale, h * self.scale, Qt.KeepAspectRatio,
                                           Qt.FastTransformation))

    def image_pos(self, x: float, y: float) -> tuple[float, float]:
        """Widget coordinates -> image pixels (the image is centred)."""
        h, w = self.array.shape[:2]
        s = self.scale
        return (x - (self.width() - w * s) / 2) / s, (y - (self.height() - h * s) / 2) / s

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self.array is None:
            return
        p = event.position()
        self.clickedAt.emit(*self.image_pos(p.x(), p.y()), event.button())
