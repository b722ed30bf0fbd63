"""r_real (StyleGAN2-ADA's r_t) measures reals against each loss family's own real/fake boundary."""
import numpy as np
import pytest

from ganstudio.config.presets import get_preset


@pytest.mark.parametrize("loss, d_score, expected", [
    ("bce_ns", 0.3, 1.0),    # logits: positive = "real"
    ("hinge", -0.3, -1.0),
    ("lsgan", 0.3, -1.0),    # LSGAN's targets are 0 and 1: 0.3 is on the fake side of 0.5
    ("lsgan", 0.7, 1.0),
    ("wgan_gp", 0.3, 0.0),   # a critic scoring reals and fakes alike: no real is above the fakes' mean
])
def test_r_real_uses_the_loss_familys_boundary(loss, d_score, expected):
    import keras

    from ganstudio.core.tfsetup import import_tf
    from ganstudio.engine.step import build_train_step

    tf = import_tf()
    cfg = get_preset("tiny").config().with_updates({"loss": loss, "precision": "float32", "d_steps": 1,
                                                    "diffaugment": ""})
    m = cfg.model
    shape = (m.image_size, m.image_size, m.channels)
    keras.config.set_dtype_policy("float32")
    G = keras.Sequential([keras.Input((m.noise_dim,)), keras.layers.Dense(int(np.prod(shape))),
                          keras.layers.Reshape(shape)])
    D = keras.Sequential([keras.Input(shape), keras.layers.Flatten(),
                          keras.layers.Dense(1, kernel_initializer="zeros",
                                             bias_initializer=keras.initializers.Constant(d_score))])
    g_opt, d_opt = keras.optimizers.Adam(0.0), keras.optimizers.Adam(0.0)
    step = build_train_step(cfg, G, D, g_opt, d_opt, tf.random.Generator.from_seed(0), jit=False,
                            loss_scaling=False)
    images = tf.zeros((1, 8, *shape))
    out = np.asarray(step(images, tf.zeros((1, 8), tf.int32)))
    assert out[4] == pytest.approx(expected)
