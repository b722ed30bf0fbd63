"""Dataset sources -> uint8 NHWC numpy arrays, without TensorFlow: the named and file datasets (datasets.py) and
image folders (folder.py). The names below are datasets.py's public ones."""
from .datasets import (BUILTIN, CLASS_NAMES, IDX_CHUNK, Dataset, check_claim, load_config_dataset, load_dataset,
                       memory_budget, read_idx)

__all__ = ["BUILTIN", "CLASS_NAMES", "IDX_CHUNK", "Dataset", "check_claim", "load_config_dataset", "load_dataset",
           "memory_budget", "read_idx"]
