"""Latent math (ganstudio.outputs.latent) and the trainer's 'generate' request on a paused run (issue 16.1)."""
import numpy as np
import pytest

from ganstudio.engine import CheckpointSaved, Control, Finished, Message, Paused, SampleGrid
from ganstudio.engine.events import Generated
from ganstudio.engine.trainer import Trainer
from ganstudio.outputs.latent import interpolate, orthonormal_directions, reroll_noise, slerp, split_views, view_batch


def test_interpolation_and_directions():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(16).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    z = interpolate(a, b, 5, "slerp")
    np.testing.assert_array_equal(z[[0, -1]], [a, b])
    # slerp keeps norms on the line between |a| and |b|; linear passes through the midpoint
    norms = np.linalg.norm(z, axis=1)
    np.testing.assert_allclose(norms, np.linspace(np.linalg.norm(a), np.linalg.norm(b), 5), rtol=1e-5)
    np.testing.assert_allclose(interpolate(a, b, 3, "linear")[1], (a + b) / 2, rtol=1e-6)
    np.testing.assert_allclose(slerp(a, 2 * a, np.array([0.5]))[0], 1.5 * a, rtol=1e-5)   # parallel: lerp
    d = orthonormal_directions(16, 4)
    np.testing.assert_allclose(d @ d.T, np.eye(4), atol=1e-6)
    np.testing.assert_array_equal(d, orthonormal_directions(16, 4))
    assert not np.array_equal(reroll_noise((3, 16), 1), reroll_noise((3, 16), 2))


def test_view_batch_round_trip():
    noise = np.random.default_rng(1).standard_normal((4, 8)).astype(np.float32)
    labels = np.array([0, 0, 1, 1], np.int32)
    params = {"a": 1, "b": 2, "steps": 6, "mode": "linear", "move": 3, "offsets": [1.0, 0, 0, 0]}
    z, y, extra = view_batch(noise, labels, params)
    assert z.shape == (4 + 6 + 2, 8) and y.tolist() == [0, 0, 1, 1] + [0] * 6 + [1, 1]
    np.testing.assert_array_equal(z[:4], noise)
    np.testing.assert_array_equal(z[4], noise[1])
    np.testing.assert_array_equal(z[9], noise[2])
    assert np.linalg.norm(extra["moved_z"] - noise[3]) == pytest.approx(1.0, rel=1e-5)
    views = split_views(np.arange(12)[:, None], 4, 6)
    assert views["grid_images"].ravel().tolist() == [0, 1, 2, 3]
    assert views["strip"].ravel().tolist() == [4, 5, 6, 7, 8, 9] and views["moved"].ravel().tolist() == [10, 11]
    with pytest.raises(ValueError):
        split_views(np.zeros((5, 1)), 4, 6)


def test_generate_request_on_a_paused_run(tiny_config, tmp_path):
    """The request channel answers with images of the live generator while paused, and training goes on after."""
    control = Control()
    control.pause()
    trainer = Trainer(tiny_config.with_updates({"steps": 2}), run_dir=tmp_path / "run", control=control)
    gen = trainer.run()
    first_grid = next(e for e in gen if isinstance(e, SampleGrid))
    assert isinstance(next(gen), CheckpointSaved) and isinstance(next(gen), Paused)   # a new run saves step 0 first
    control.request("generate", tag="fixed")
    fixed = next(gen)
    assert isinstance(fixed, Generated) and fixed.tag == "fixed" and fixed.step == 0 and fixed.labels is None
    np.testing.assert_array_equal(fixed.images, first_grid.images)       # the fixed noise by default
    np.testing.assert_array_equal(fixed.noise, trainer.fixed_noise.numpy())
    z, _, _ = view_batch(fixed.noise, None, {"a": 0, "b": 3, "steps": 5, "mode": "slerp", "move": 1,
                                             "offsets": [0.5, 0, 0, 0]})
    control.request("generate", noise=z, tag="view")
    views = next(gen)
    assert views.tag == "view" and views.images.shape == (len(z), 28, 28, 1) and views.images.dtype == np.uint8
    v = split_views(views.images, 4, 5)
    assert np.abs(v["strip"][[0, -1]].astype(int) - first_grid.images[[0, 3]]).max() <= 1
    control.request("generate", noise=np.zeros((2, 3)), tag="bad")
    bad = next(gen)
    assert isinstance(bad, Message) and bad.level == "error" and "(N, 16)" in bad.text
    control.resume()
    assert next(e for e in gen if isinstance(e, Finished)).step == 2
