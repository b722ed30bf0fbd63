"""What a run becomes outside the studio, built from its folder and checkpoints: exports (sample grids, a GIF of
training, the generator as .keras, SavedModel, ONNX or LiteRT; export.py), portable checkpoint archives
(archive.py), the one-page HTML report (report.py) and the latent explorer's strips and GIFs (latent.py)."""
