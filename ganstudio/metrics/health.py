"""Training-health rules over the per-step metrics: NaN, D dominance, D collapse, mode collapse (Qt-free, numpy).

Feed every StepMetrics to HealthMonitor.update() and, whenever the quality metric runs, the fixed-noise batch's
diversity to update_diversity(). Each returns the *new* warnings only: a rule fires once when its condition starts
and re-arms only after a clearly healthy stretch (hysteresis), so a borderline run does not spam the log.

Thresholds (all keyword arguments of HealthMonitor; W = `window` steps, default 200):

nan            any of g_loss, d_loss, d_real, d_fake is NaN/Inf -> immediately. Re-arms at the next finite step
               (the trainer rolls back to the last checkpoint; a step number going backwards also clears the
               windows, see update()).
d_dominance    over the last W steps: mean d_real > 0.95, mean d_fake < 0.05, mean d_loss < 0.1 and G not
               recovering (mean g_loss of the newer half >= 0.95 x the older half). D separates perfectly and G's
               gradient vanishes. Re-arms when the W-step mean d_fake > 0.1 or mean d_loss > 0.3.
d_collapse     over the last W steps: mean d_real < 0.3 (D calls real images fake) or mean d_loss > 3 (more than
               twice the 2 ln 2 = 1.39 of a D that guesses: D is confidently wrong). d_real = d_fake = 0.5 with
               d_loss = 2 ln 2 is *not* flagged: that is also the ideal equilibrium. Re-arms when the W-step mean
               d_real > 0.4 and mean d_loss < 2.
mode_collapse  diversity (sample_diversity of the fixed-noise batch's features) < 40% of the run's best so far
               AND < 50% of the real data's diversity (when known). Re-arms when diversity >= 60% of the best.

The d_loss thresholds assume the BCE family (losses 'bce_ns', 'minimax'); for 'lsgan', 'wgan_gp' and 'hinge' pass
`loss=` and the loss-value conditions are dropped (d_dominance and d_collapse then use d_real/d_fake only).
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Iterable

import numpy as np

BCE_LOSSES = ("bce_ns", "minimax", "bce")
KINDS = ("nan", "d_dominance", "d_collapse", "mode_collapse")


@dataclass(frozen=True)
class HealthWarning:
    kind: str          # one of KINDS
    step: int
    message: str       # what happened, with the numbers
    suggestion: str    # what to try

    def text(self) -> str:
        """One line for a log or a Message(level='warning') event."""
        return f"step {self.step}: {self.message} -- {self.suggestion}"


def sample_diversity(features: np.ndarray, max_n: int = 256) -> float:
    """Mean pairwise Euclidean distance between feature vectors (first `max_n` rows; O(n^2)). A collapsed
    generator gives near-identical features and a value near 0."""
    f = np.asarray(features, dtype=np.float64)
    f = (f[:, None] if f.ndim == 1 else f.reshape(len(f), -1))[:max_n]
    if len(f) < 2:
        return 0.0
    sq = (f * f).sum(axis=1)
    d2 = np.clip(sq[:, None] + sq[None, :] - 2 * f @ f.T, 0, None)   # clip: round-off makes tiny negatives
    return float(np.sqrt(d2)[np.triu_indices(len(f), 1)].mean())


def weights_finite(arrays: Iterable) -> bool:
    """True when every array (numpy, or anything np.asarray takes, e.g. model.get_weights()) is all finite."""
    return all(np.isfinite(np.asarray(a)).all() for a in arrays)


def _mean(d: deque) -> float:
    return float(np.fromiter(d, dtype=np.float64, count=len(d)).mean())


class HealthMonitor:
    """Per-step health rules; see the module docstring for every threshold."""

    def __init__(self, window: int = 200, *, loss: str = "bce_ns",
                 dominance_real: float = 0.95, dominance_fake: float = 0.05, dominance_d_loss: float = 0.1,
                 collapse_real: float = 0.3, collapse_d_loss: float = 3.0,
                 mode_vs_best: float = 0.4, mode_vs_real: float = 0.5, mode_rearm: float = 0.6,
                 real_diversity: float | None = None) -> None:
        if window < 4:
            raise ValueError(f"window must be >= 4 steps, got {window}")
        self.window = window
        self.loss_rules = loss in BCE_LOSSES
        self.dominance_real, self.dominance_fake, self.dominance_d_loss = dominance_real, dominance_fake, \
            dominance_d_loss
        self.collapse_real, self.collapse_d_loss = collapse_real, collapse_d_loss
        self.mode_vs_best, self.mode_vs_real, self.mode_rearm = mode_vs_best, mode_vs_real, mode_rearm
        self.real_diversity = real_diversity
        self.best_diversity = 0.0
        self.history: list[HealthWarning] = []
        self._armed = dict.fromkeys(KINDS, True)
        self._last_step: int | None = None
        self._g, self._d, self._dr, self._df = (deque(maxlen=window) for _ in range(4))

    def reset_windows(self) -> None:
        """Forget the step history (after a rollback the old steps describe a state that no longer exists)."""
        for q in (self._g, self._d, self._dr, self._df):
            q.clear()

    def update(self, step: int, g_loss: float, d_loss: float, d_real: float, d_fake: float,
               r_real: float = math.nan) -> list[HealthWarning]:
        """Feed one training step; returns the warnings that start at this step (usually none). r_real: mean
        sign(D logits on real images), StyleGAN2-ADA's overfitting signal."""
        if self._last_step is not None and step <= self._last_step:
            self.reset_windows()   # the trainer rolled back
        self._last_step = step
        if not all(math.isfinite(v) for v in (g_loss, d_loss, d_real, d_fake)):
            return self._fire("nan", step, f"losses are not finite (G {g_loss}, D {d_loss})",
                              "lower the learning rates (e.g. halve g_lr and d_lr); training rolls back to the "
                              "last checkpoint")
        self._armed["nan"] = True   # NaN values never enter the windows
        for q, v in ((self._g, g_loss), (self._d, d_loss), (self._dr, d_real), (self._df, d_fake)):
            q.append(v)
        out: list[HealthWarning] = []
        if len(self._dr) < self.window:
            return out
        out += self._check_dominance(step)
        out += self._check_collapse(step)
        return out

    def update_diversity(self, step: int, diversity: float) -> list[HealthWarning]:
        """Feed the fixed-noise batch's diversity (sample_diversity of its features) whenever it is measured."""
        if not math.isfinite(diversity):
            return []
        self.best_diversity = max(self.best_diversity, diversity)
        if diversity >= self.mode_rearm * self.best_diversity:
            self._armed["mode_collapse"] = True
        low_vs_best = diversity < self.mode_vs_best * self.best_diversity
        low_vs_real = self.real_diversity is None or diversity < self.mode_vs_real * self.real_diversity
        if not (low_vs_best and low_vs_real):
            return []
        real = f", real data {self.real_diversity:.3g}" if self.real_diversity is not None else ""
        return self._fire("mode_collapse", step,
                          f"sample diversity fell to {diversity:.3g} (best {self.best_diversity:.3g}{real}): the "
                          f"generator maps different noise to near-identical images",
                          "lower g_lr, add minibatch diversity (e.g. more D dropout / label smoothing), or resume "
                          "from an earlier checkpoint")

    def _check_dominance(self, step: int) -> list[HealthWarning]:
        w = self.window
        dr, df, dl = _mean(self._dr), _mean(self._df), _mean(self._d)
        if not self._armed["d_dominance"]:   # hysteresis: re-arm only well clear of the firing thresholds
            if df > 2 * self.dominance_fake or (self.loss_rules and dl > 3 * self.dominance_d_loss):
                self._armed["d_dominance"] = True
            return []
        g = np.fromiter(self._g, dtype=np.float64, count=len(self._g))
        g_not_recovering = g[w // 2:].mean() >= 0.95 * g[:w // 2].mean()
        loss_ok = not self.loss_rules or (dl < self.dominance_d_loss and g_not_recovering)
        if dr > self.dominance_real and df < self.dominance_fake and loss_ok:
            return self._fire("d_dominance", step,
                              f"the discriminator wins outright over the last {w} steps (D(real) {dr:.3f}, "
                              f"D(fake) {df:.3f}, D loss {dl:.3f}); the generator gets almost no gradient",
                              "lower d_lr (or raise g_lr), add dropout to D, or use one-sided label smoothing "
                              "(e.g. 0.1)")
        return []

    def _check_collapse(self, step: int) -> list[HealthWarning]:
        w = self.window
        dr, dl = _mean(self._dr), _mean(self._d)
        if not self._armed["d_collapse"]:
            if dr > self.collapse_real + 0.1 and (not self.loss_rules or dl < self.collapse_d_loss - 1):
                self._armed["d_collapse"] = True
            return []
        if dr < self.collapse_real or (self.loss_rules and dl > self.collapse_d_loss):
            return self._fire("d_collapse", step,
                              f"the discriminator has failed over the last {w} steps (D(real) {dr:.3f}, "
                              f"D loss {dl:.3f}): it calls real images fake",
                              "raise d_lr or lower g_lr, reduce D dropout/label smoothing, or resume from an "
                              "earlier checkpoint")
        return []

    def _fire(self, kind: str, step: int, message: str, suggestion: str) -> list[HealthWarning]:
        if not self._armed[kind]:
            return []
        self._armed[kind] = False
        w = HealthWarning(kind, step, message, suggestion)
        self.history.append(w)
        return [w]
