"""What a run is: the config's fields (fields.py, the single source of every hyperparameter), the named presets
and the quality they reach (presets.py), the command-line options that build a config (options.py) and what a
config draws for grids and the metric (sampling.py).

Importing this package loads fields.py alone (no presets, no TensorFlow); the names below are its public ones.
"""
from .fields import (ALIASES, FIELD_BY_NAME, FIELDS, GROUP_TITLES, GROUPS, LIVE_FIELDS, PRESET_NAME_RE, Config,
                     DataConfig, FieldInfo, ModelConfig, OptimConfig, SampleConfig, TrainConfig, describe_fields, hp,
                     resolve_key)

__all__ = ["ALIASES", "FIELD_BY_NAME", "FIELDS", "GROUP_TITLES", "GROUPS", "LIVE_FIELDS", "PRESET_NAME_RE", "Config",
           "DataConfig", "FieldInfo", "ModelConfig", "OptimConfig", "SampleConfig", "TrainConfig", "describe_fields",
           "hp", "resolve_key"]
