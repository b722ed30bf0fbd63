"""ganstudio: a desktop studio for training GANs on TensorFlow/Keras."""
__version__ = "0.1.0"
