from .dcgan import build_discriminator, build_generator

__all__ = ["build_generator", "build_discriminator"]
