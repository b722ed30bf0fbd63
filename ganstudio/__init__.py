"""ganstudio: a desktop studio for training GANs on TensorFlow/Keras.

A path tells its layer. From the ground up (a module imports its own package and lower layers only, never a
higher one nor another package of its own layer; tests/test_architecture.py holds it):

    core/       helpers that know nothing of GANs: errors, fileio, resources, extras, tfsetup, imaging, curves,
                desktop_entry
    config/     what a run is: fields (the Config), presets, options (a config from command-line flags), sampling
    models/     the networks and losses;  data/  dataset sources;  runs/  the run folder
    metrics/    the quality metric and the training adviser
    engine/     training, as a generator of events
    sweeps/     sweeps on Optuna;  outputs/  what a run becomes: exports, archives, the report, latent strips
    studio/     the studio's Qt-free model
    qt/         the studio's window (the only package that imports Qt)
    cli.py      the command line;  __main__.py  python -m ganstudio

A package's code lives in its modules; its __init__.py only re-exports (qt/widgets/__init__.py also holds the
widgets' layout helpers).
"""
__version__ = "0.1.0"
