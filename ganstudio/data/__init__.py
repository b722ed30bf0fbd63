"""Dataset sources -> uint8 NHWC numpy arrays, without TensorFlow: the Dataset record and the memory budget
(arrays.py), the named and file datasets (datasets.py) and image folders (folder.py)."""
from .arrays import Dataset, check_claim, memory_budget
from .datasets import BUILTIN, CLASS_NAMES, IDX_CHUNK, load_config_dataset, load_dataset, read_idx

__all__ = ["BUILTIN", "CLASS_NAMES", "IDX_CHUNK", "Dataset", "check_claim", "load_config_dataset", "load_dataset",
           "memory_budget", "read_idx"]
