"""The Qt front end: the only package that imports PySide6 / pyqtgraph. It is a thin view over the engine:
events come in through `worker.TrainingSession` signals, commands go out through `engine.control.Control`."""
