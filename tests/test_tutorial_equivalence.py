"""The `tutorial` preset computes the tutorial's train step: same start weights, same batch, same noise and
dropout seeds -> the same losses and the same weights after a step, to float rounding."""
import numpy as np

from ganstudio.config.presets import get_preset
from ganstudio.data import Dataset
from ganstudio.engine.trainer import Trainer
from ganstudio.models.tutorial_reference import make_tutorial


def test_one_step_equals_the_tutorials_train_step(tmp_path):
    import tensorflow as tf

    bs = 16
    images = np.random.default_rng(0).integers(0, 256, (64, 28, 28, 1), dtype=np.uint8)
    cfg = get_preset("tutorial").config().with_updates({"batch_size": bs, "jit_compile": "off", "steps": 1,
                                                        "precision": "float32"})
    t = Trainer(cfg, run_dir=tmp_path / "run", dataset=Dataset("rand", images))
    t._setup()
    ref = make_tutorial(bs)
    for ours_model, ref_model in ((t.G, ref.generator), (t.D, ref.discriminator)):
        # weights, BN statistics, dropout seed states
        for a, b in zip(ours_model.variables, ref_model.variables, strict=True):
            assert a.path.split("/")[-1] == b.path.split("/")[-1]
            b.assign(a)

    batch, labels = next(t._dataset_from(0))
    rng_copy = tf.random.Generator.from_state(t.rng.state.numpy(), alg=t.rng.algorithm)
    noise = rng_copy.normal([1, bs, 100])[0]          # the noise the engine's step is about to draw
    step = t._make_step_fn()
    ours = step(batch, labels).numpy()
    g_ref, d_ref = (float(v) for v in ref.train_step(batch[0], noise))

    assert abs(ours[0] - g_ref) < 1e-5 and abs(ours[1] - d_ref) < 1e-5
    for a, b in zip(t.G.get_weights() + t.D.get_weights(),
                    ref.generator.get_weights() + ref.discriminator.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert not np.allclose(t.G.get_weights()[0], ref.generator.get_weights()[0] * 0)   # something was trained
