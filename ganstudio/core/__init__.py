"""The ground floor: helpers that know nothing of GANs, runs or the studio, and import nothing of ganstudio outside
this package. errors (user-facing errors), fileio (crash-safe writes), resources (bundled files), extras
(optional packages), tfsetup (TensorFlow, imported once and quietly), imaging (image grids in numpy + PIL),
curves (the loss plot's numbers) and desktop_entry (the desktop menu entry)."""
