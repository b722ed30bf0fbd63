"""Build resources/classifier_bundled.keras: the quality metric's feature CNN for the bundled Fashion-MNIST subset.

Trains on the npz's 6,000 x_train images and reports accuracy on its 1,000 held-out x_test images (about a minute
or two on 2 CPU cores). Usage: python tools/train_bundled_classifier.py [--epochs 12] [--out PATH]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ganstudio.data import load_dataset  # noqa: E402
from ganstudio.metrics.classifier import save_classifier, train_classifier  # noqa: E402

MAX_BYTES = 5 * 1024 * 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--out", default=str(ROOT / "resources" / "classifier_bundled.keras"))
    args = ap.parse_args()
    ds = load_dataset("bundled")
    with np.load(ROOT / "resources" / "fashion_mnist_subset.npz") as z:
        test = (z["x_test"][..., None], z["y_test"].astype(np.int64))
    t0 = time.perf_counter()
    model, acc = train_classifier(ds, epochs=args.epochs, test=test,
                                  progress=lambda i, n: print(f"epoch {i}/{n}  {time.perf_counter() - t0:.0f} s"))
    save_classifier(model, args.out)
    size = Path(args.out).stat().st_size
    print(f"test accuracy {acc:.4f} on {len(test[1])} held-out images; {args.out}: {size / 1e6:.2f} MB")
    if size > MAX_BYTES:
        print("error: the bundled classifier must stay under 5 MB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
