"""The training adviser: per-step and per-evaluation rules that diagnose how a GAN run is failing, with the
evidence, a likely cause and remedies (advice.py's records). Qt-free numpy.

Feed every step to HealthMonitor.update() and every quality evaluation to update_quality(). Each returns the
*new* warnings only: a rule fires once when its condition starts and re-arms only after a clearly healthy stretch
(hysteresis). Windows: W = `window` steps (config health_window, default 200) for borderline evidence, and the
last S = max(10, W // 10) steps when the evidence is overwhelming, so no rule waits W steps for an obvious case.
A rule re-arms only when both the W-step and the S-step means are clear of its re-arm threshold.

nan            g_loss, d_loss, d_real or d_fake NaN/Inf -> at once. Re-arms at the next finite step (the trainer
               rolls back to the last checkpoint; a step number going backwards clears the windows and the quality
               evaluations after it).
divergence     |g_loss| or |d_loss| > 100 x max(its running median over the last W steps, floor) where floor is
               1 (BCE, least squares, hinge: healthy losses are O(1)) or 10 (WGAN critics drift) -> at once, from
               the second step. While it holds, every other per-step rule is silent (D's outputs and losses are
               symptoms). Re-arms after S steps back within 10 x that median. evidence['since'] is the step the
               divergence began (the first of the steps before it already 10x off): the trainer handles it like
               NaN, rolling back to the last checkpoint from before that step and stopping (CLI) or pausing.
d_dominance    D separates real from generated images and G's gradient vanishes. BCE family and hinge: mean
               D(real) > 0.95, mean D(fake) < 0.05, and (BCE) mean D loss < 0.1 over W steps with G's loss not
               falling (its newer half >= 0.95 x the older half); or over S steps D(real) > 0.995, D(fake) < 0.005,
               (BCE) D loss < 0.02. Least squares: mean D loss < 0.02 (S: < 0.005) with G loss > 0.4. Not judged
               for WGAN-GP (a critic has no saturation point). Re-arms when mean D(fake) > 0.1 (least squares: D loss
               > 0.05).
d_failure      G fools D. BCE family and hinge: mean D(real) < 0.3 (D scores real images as fake) or mean D(fake)
               > 0.7 (D scores generated images as real) over W steps; 0.1 / 0.9 over S steps. The message names
               the side its numbers show. D(real) = D(fake) = 0.5 with D loss 2 ln 2 is the ideal equilibrium and
               is not flagged. Re-arms when mean D(real) > 0.4 and mean D(fake) < 0.6.
d_overfitting  D memorises a small training set (StyleGAN2-ADA's r_t): a dataset of <= 10,000 images (ADA's
               small-data regime), D has seen each image >= 100 times, and mean r_real = E[sign(D logits on the
               real batch)] > 0.9 over W steps (S steps: > 0.99). The image count carries weight here: DCGAN
               discriminators (batch norm, BCE) score most real batches positive from the first steps (r_real
               ~ 0.99 at step 100 on 64 images and on 6,000), so r_real alone does not separate memorising from
               a confident D. Judged for the BCE family, hinge and least squares (r_real is taken against each
               family's real/fake boundary: 0, 0 and 0.5); not for WGAN-GP, whose critic has no boundary. Takes
               precedence over d_dominance once it applies. Re-arms when mean r_real < 0.5.
memorization   the quality metric's memorization ratio (generated-to-nearest-training over held-out-to-nearest-
               training distance in the classifier's feature space) < 0.7 at an evaluation: G copies training
               images, whatever its FD says. Re-arms at >= 0.85.
mode_collapse  diversity of the fixed-noise features < 40 % of the run's best and < 50 % of the real data's
               (when known). Re-arms at >= 60 % of the best.
plateau        the quality metric (FD, lower is better) has not beaten its best for `patience` (3) evaluations
               that span >= PLATEAU_MIN_SPAN (1,000) steps since the best, at step >= PLATEAU_MIN_STEPS (2,000);
               "rising" when the latest is > 1.2 x the best: the best samples were at the best step. The floors are
               in steps, not evaluations: with metric_every 10 three evaluations are 30 steps of early, noisy FD,
               while docs/quality.md's runs still halve their FD between 3,000-5,000 and 13,000-26,000 steps (the
               default metric_every 500 reaches both floors with its first possible verdict, at step 2,000). For a
               preset that docs/quality.md shows is outrun in the same time (the `further` of the expectations the
               trainer passes in: config.presets.adviser_expectations), the cause names the one that reaches
               further (a new run, so no button).
oscillation    instead of plateau when, over those evaluations, FD alternately rises and falls by > 10 % of the
               best (the same floors apply). Both re-arm at a new best.
"""
from __future__ import annotations

import math
from collections import deque
from typing import Any, Iterable, Mapping

import numpy as np

from ..config import Config
from .advice import HealthWarning, Remedy, best_quality

BCE_LOSSES = ("bce_ns", "minimax", "bce")
R_REAL_LOSSES = BCE_LOSSES + ("hinge", "lsgan")   # where r_real is a real-vs-fake vote (see d_overfitting)
KINDS = ("nan", "divergence", "d_dominance", "d_failure", "d_overfitting", "mode_collapse", "memorization", "plateau",
         "oscillation")
TITLES = {
    "nan": "Losses became NaN/Inf",
    "divergence": "Training diverged",
    "d_dominance": "Discriminator dominates",
    "d_failure": "Discriminator is fooled",
    "d_overfitting": "Discriminator overfits the dataset",
    "mode_collapse": "Possible mode collapse",
    "memorization": "Generator copies training images",
    "plateau": "Quality stopped improving",
    "oscillation": "Quality oscillates without progress",
}
MEMORISE_EPOCHS = 100   # D must have seen each training image this often before r_real can mean memorisation
SMALL_DATASET = 10_000  # StyleGAN2-ADA's small-data regime
# generated-to-nearest-training distance over held-out-to-nearest-training (metrics.fid): ~1 healthy (1.04-1.46 in
# docs/quality.md's runs, 0.85-1.15 for real test images), 0.1 for copies of 600 images
COPYING_RATIO, COPYING_REARM = 0.7, 0.85
# no plateau / oscillation verdict before this step, nor before the evaluations since the best span this many steps
PLATEAU_MIN_STEPS, PLATEAU_MIN_SPAN = 2000, 1000

__all__ = ["HealthMonitor", "HealthWarning", "Remedy", "KINDS", "TITLES", "sample_diversity", "weights_finite"]


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


def _tail_mean(d: deque, n: int) -> float:
    return float(np.fromiter(d, dtype=np.float64, count=len(d))[-n:].mean())


class HealthMonitor:
    """Per-step and per-evaluation rules; see the module docstring for every threshold."""

    def __init__(self, window: int = 200, *, loss: str | None = None, config: Config | None = None,
                 dataset_size: int | None = None, real_diversity: float | None = None, patience: int = 3,
                 expectations: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """expectations: per preset name, its "g_lr" and "d_lr" and the preset that reaches "further" when it
        plateaus (config.presets.adviser_expectations(); the adviser never imports the preset catalogue). Without
        it, no remedy or note names a preset."""
        if window < 4:
            raise ValueError(f"window must be >= 4 steps, got {window}")
        self.config = config or Config()       # current values, for remedies (the trainer updates it on edits)
        self.loss = loss or self.config.optim.loss
        self.window, self.short = window, max(10, window // 10)
        self.dataset_size = dataset_size
        self.real_diversity = real_diversity
        self.patience = patience
        self.expectations = dict(expectations or {})
        self.best_diversity = 0.0
        self.quality: list[tuple[int, float]] = []      # (step, fd) of every evaluation
        self.history: list[HealthWarning] = []
        self._armed = dict.fromkeys(KINDS, True)
        self._last_step: int | None = None
        self._diverged_at = 0.0                         # the median the losses exploded from
        self._g, self._d, self._dr, self._df, self._rr = (deque(maxlen=window) for _ in range(5))

    @classmethod
    def from_config(cls, config: Config, dataset_size: int | None = None,
                    expectations: Mapping[str, Mapping[str, Any]] | None = None) -> "HealthMonitor":
        return cls(config.train.health_window, config=config, dataset_size=dataset_size, expectations=expectations)

    @property
    def best(self) -> tuple[float, int] | None:
        """(best FD so far, its step), or None before the first evaluation."""
        return best_quality({"step": s, "fd": f} for s, f in self.quality)

    def reset_windows(self) -> None:
        """Forget the step history (after a rollback the old steps describe a state that no longer exists)."""
        for q in (self._g, self._d, self._dr, self._df, self._rr):
            q.clear()

    # -- per step ---------------------------------------------------------------------------------------------
    def update(self, step: int, g_loss: float, d_loss: float, d_real: float, d_fake: float,
               r_real: float = math.nan) -> list[HealthWarning]:
        """Feed one training step; returns the warnings that start at this step (usually none). r_real: mean
        sign(D logits on real images), StyleGAN2-ADA's overfitting signal."""
        if self._last_step is not None and step <= self._last_step:
            self.reset_windows()   # the trainer rolled back: evaluations after the restored step are gone too
            self.quality = [q for q in self.quality if q[0] < step]
        self._last_step = step
        if not all(math.isfinite(v) for v in (g_loss, d_loss, d_real, d_fake)):
            return self._fire("nan", step, f"losses are not finite (G {g_loss}, D {d_loss})",
                              "a learning rate too high for this model and batch (or a numerical overflow)",
                              {"g_loss": g_loss, "d_loss": d_loss}, [self._scale_lrs(0.5, "Halve both learning rates")])
        self._armed["nan"] = True   # NaN values never enter the windows
        out = self._check_divergence(step, g_loss, d_loss)
        for q, v in ((self._g, g_loss), (self._d, d_loss), (self._dr, d_real), (self._df, d_fake), (self._rr, r_real)):
            q.append(v)
        if out or not self._armed["divergence"]:
            return out              # exploded losses make every other per-step signal a symptom
        overfit = self._check_overfitting(step)
        out += overfit
        if not overfit and not self._overfitting_applies():
            out += self._check_dominance(step)
        out += self._check_failure(step)
        return out

    def _check_divergence(self, step: int, g_loss: float, d_loss: float) -> list[HealthWarning]:
        if not self._g:
            return []
        floor = 10.0 if self.loss == "wgan_gp" else 1.0
        med_g = float(np.median(np.abs(np.fromiter(self._g, np.float64, len(self._g)))))
        med_d = float(np.median(np.abs(np.fromiter(self._d, np.float64, len(self._d)))))
        if not self._armed["divergence"]:
            recent = max(np.abs(np.fromiter(self._g, np.float64, len(self._g))[-self.short:]).max(),
                         np.abs(np.fromiter(self._d, np.float64, len(self._d))[-self.short:]).max(), abs(g_loss),
                         abs(d_loss))
            if len(self._g) >= self.short and recent < 10 * max(self._diverged_at, floor):
                self._armed["divergence"] = True
            return []
        for name, v, med in (("G", g_loss, med_g), ("D", d_loss, med_d)):
            ref = max(med, floor)
            if abs(v) > 100 * ref:
                self._diverged_at = ref
                o = self.config.optim
                cause = (f"learning rates too high for this model and batch (g_lr {o.g_lr:g}, d_lr {o.d_lr:g}): "
                         f"the updates overshoot")
                remedies = [self._scale_lrs(0.1, "Lower both learning rates 10x")]
                preset = self._preset_lrs()
                if preset and preset["g_lr"] < o.g_lr and preset["d_lr"] < o.d_lr:
                    remedies.insert(0, Remedy(f"Use the {self.config.preset} preset's learning rates (g_lr "
                                              f"{preset['g_lr']:g}, d_lr {preset['d_lr']:g})", preset))
                if self.best is not None:
                    remedies.append(self._scale_lrs(0.1, f"Roll back to the best checkpoint (step {self.best[1]:,}) "
                                                         f"and lower both learning rates 10x", "rollback_best"))
                ratio = abs(v) / (med or ref)   # >= abs(v) / ref > 100: the message's number is what fired
                return self._fire("divergence", step,
                                  f"{name}'s loss jumped to {v:.3g}, {ratio:,.0f}x its running median "
                                  f"{med:.3g}: the losses are exploding", cause,
                                  {"loss": v, "median": med, "ratio": ratio,
                                   "since": self._divergence_onset(step, max(med_g, floor), max(med_d, floor))},
                                  remedies)
        return []

    def _divergence_onset(self, step: int, ref_g: float, ref_d: float) -> int:
        """The first step of the run of steps, ending at `step`, whose losses were already 10x their reference:
        the divergence began there, so a checkpoint from before it is the healthy one to continue from."""
        g = np.abs(np.fromiter(self._g, np.float64, len(self._g)))
        d = np.abs(np.fromiter(self._d, np.float64, len(self._d)))
        onset = step
        for i in range(len(g) - 1, -1, -1):    # the windows hold steps step - len .. step - 1
            if g[i] <= 10 * ref_g and d[i] <= 10 * ref_d:
                break
            onset = step - (len(g) - i)
        return onset

    def _dominance_evidence(self, n: int) -> tuple[float, float, float, float] | None:
        if len(self._dr) < n:
            return None
        return (_tail_mean(self._dr, n), _tail_mean(self._df, n), _tail_mean(self._d, n), _tail_mean(self._g, n))

    def _dominates(self, n: int, extreme: bool) -> bool:
        ev = self._dominance_evidence(n)
        if ev is None:
            return False
        dr, df, dl, _ = ev
        if self.loss == "lsgan":
            return dl < (0.005 if extreme else 0.02) and _tail_mean(self._g, n) > 0.4
        if self.loss == "wgan_gp":
            return False
        hi, lo, dmax = (0.995, 0.005, 0.02) if extreme else (0.95, 0.05, 0.1)
        loss_ok = self.loss not in BCE_LOSSES or dl < dmax
        if not extreme:
            g = np.fromiter(self._g, dtype=np.float64, count=len(self._g))[-n:]
            loss_ok = loss_ok and g[n // 2:].mean() >= 0.95 * g[:n // 2].mean()   # G not recovering
        return dr > hi and df < lo and loss_ok

    def _check_dominance(self, step: int) -> list[HealthWarning]:
        w, s = self.window, self.short
        if not self._armed["d_dominance"]:
            if self._clear(self._d, lambda d: d > 0.05) if self.loss == "lsgan" else \
                    self._clear(self._df, lambda df: df > 0.1):
                self._armed["d_dominance"] = True
            return []
        n = s if self._dominates(s, True) else w if self._dominates(w, False) else 0
        if not n:
            return []
        dr, df, dl, g = self._dominance_evidence(n)
        o = self.config.optim
        if o.d_lr > o.g_lr:
            cause = f"D learns faster than G: d_lr {o.d_lr:g} is {o.d_lr / o.g_lr:.3g}x g_lr {o.g_lr:g}"
            # G catching up beat D slowing down when applied (benchmarks/adviser_scenarios.py, README: FD 124
            # against 162 for d_lr halved and 167 unchanged); lowering d_lr stays the second choice.
            remedies = [Remedy(f"Raise g_lr to d_lr ({o.d_lr:g})", {"g_lr": o.d_lr}),
                        Remedy(f"Set d_lr to g_lr ({o.g_lr:g})", {"d_lr": o.g_lr})]
        else:
            cause = "D is too strong for G (capacity, no regularisation)"
            remedies = [Remedy("Halve d_lr", {"d_lr": o.d_lr / 2})]
        # Remedies change nothing the checkpoint holds (adding dropout would add layers), so a resume applies them.
        if self.loss in BCE_LOSSES and not o.label_smoothing:
            remedies.append(Remedy("One-sided label smoothing 0.1", {"label_smoothing": 0.1}, "resume"))
        if not o.r1_gamma:
            remedies.append(Remedy("R1 penalty 1.0 on D", {"r1_gamma": 1.0}, "resume"))
        return self._fire("d_dominance", step,
                          f"D separates real from generated images over the last {n} steps (D(real) {dr:.3f} near "
                          f"1, D(fake) {df:.3f} near 0, D loss {dl:.3g}, G loss {g:.3g}): G's gradient vanishes",
                          cause, {"d_real": dr, "d_fake": df, "d_loss": dl, "g_loss": g, "steps": n}, remedies[:3])

    def _check_failure(self, step: int) -> list[HealthWarning]:
        if self.loss not in BCE_LOSSES + ("hinge",):
            return []
        w, s = self.window, self.short
        if not self._armed["d_failure"]:
            if self._clear(self._dr, lambda dr: dr > 0.4) and self._clear(self._df, lambda df: df < 0.6):
                self._armed["d_failure"] = True
            return []
        for n, lo, hi in ((s, 0.1, 0.9), (w, 0.3, 0.7)):
            if len(self._dr) < n:
                continue
            dr, df, dl = _tail_mean(self._dr, n), _tail_mean(self._df, n), _tail_mean(self._d, n)
            if dr < lo:
                what = f"D scores real images as fake (D(real) {dr:.3f}, below 0.5; D(fake) {df:.3f})"
            elif df > hi:
                what = f"D scores generated images as real (D(fake) {df:.3f}, above 0.5; D(real) {dr:.3f})"
            else:
                continue
            o, m = self.config.optim, self.config.model
            remedies = [Remedy("Double d_lr", {"d_lr": min(1.0, 2 * o.d_lr)}),
                        Remedy(f"Raise d_steps to {o.d_steps + 1}", {"d_steps": o.d_steps + 1}, "resume")]
            if o.label_smoothing:
                remedies.append(Remedy("Remove label smoothing", {"label_smoothing": 0.0}, "resume"))
            return self._fire("d_failure", step, f"over the last {n} steps {what}, D loss {dl:.3g}",
                              f"G is ahead of D: D learns too slowly (d_lr {o.d_lr:g}, g_lr {o.g_lr:g}, "
                              f"d_steps {o.d_steps}) or is held back by dropout {m.dropout:g} / label smoothing "
                              f"{o.label_smoothing:g}",
                              {"d_real": dr, "d_fake": df, "d_loss": dl, "steps": n}, remedies)
        return []

    def _epochs_seen(self) -> float:
        if not self.dataset_size or self._last_step is None:
            return 0.0
        c = self.config
        return self._last_step * c.data.batch_size * c.optim.d_steps / self.dataset_size

    def _overfitting_applies(self) -> bool:
        """D has seen each image often enough to memorise it, and its outputs on them say it does."""
        n = min(len(self._rr), self.window)
        return (self.loss in R_REAL_LOSSES and bool(self.dataset_size)
                and self.dataset_size <= SMALL_DATASET and n >= self.short
                and self._epochs_seen() >= MEMORISE_EPOCHS and _tail_mean(self._rr, n) > 0.9)

    def _check_overfitting(self, step: int) -> list[HealthWarning]:
        w, s = self.window, self.short
        rr = self._rr
        # r_real is measured against each family's real/fake boundary (engine/step.py r_threshold); a WGAN
        # critic has none, so there it is the share of reals scored above the fakes, which a good critic also raises
        if self.loss not in R_REAL_LOSSES or not rr or not math.isfinite(rr[-1]):
            return []
        if not self._armed["d_overfitting"]:
            if self._clear(rr, lambda r: r < 0.5):
                self._armed["d_overfitting"] = True
            return []
        epochs = self._epochs_seen()
        if not self.dataset_size or self.dataset_size > SMALL_DATASET or epochs < MEMORISE_EPOCHS:
            return []
        n = s if len(rr) >= s and _tail_mean(rr, s) > 0.99 else w if len(rr) >= w and _tail_mean(rr, w) > 0.9 \
            else 0
        if not n:
            return []
        r, df = _tail_mean(rr, n), _tail_mean(self._df, n)
        o, d = self.config.optim, self.config.data
        remedies = []
        # DiffAugment first: applied to the 64-image scenario it cleared the diagnosis, which ADA did not, and ended
        # level or better after 1,800 more steps (README, benchmarks/adviser_scenarios.py)
        if not d.ada_target and not d.diffaugment:
            remedies.append(Remedy("Enable DiffAugment (translation, cutout)", {"diffaugment": "translation,cutout"},
                                   "resume"))
        if not d.ada_target:     # live: ADA raises the augmentation probability while r_real stays above 0.6
            remedies.append(Remedy("Enable adaptive augmentation (ADA, target 0.6)", {"ada_target": 0.6}))
        if self.best is not None:
            remedies.append(Remedy(f"Roll back to the best checkpoint (step {self.best[1]:,})", {}, "rollback_best"))
        if not o.r1_gamma:
            remedies.append(Remedy("R1 penalty 1.0 on D", {"r1_gamma": 1.0}, "resume"))
        return self._fire("d_overfitting", step,
                          f"D scores {100 * (1 + r) / 2:.0f} % of its training images as real (r_real "
                          f"{r:.2f} over the last {n} steps, toward 1; D(fake) {df:.3f}) after seeing each of the "
                          f"{self.dataset_size:,} images {epochs:.0f} times: it memorises them",
                          f"too few training images for this discriminator ({self.dataset_size:,}); its feedback "
                          f"to G no longer generalises",
                          {"r_real": r, "d_fake": df, "epochs": epochs, "dataset_size": self.dataset_size, "steps": n},
                          remedies[:3])

    # -- per quality evaluation -------------------------------------------------------------------------------
    def update_quality(self, step: int, fd: float = math.nan, diversity: float = math.nan,
                       memorization: float = math.nan) -> list[HealthWarning]:
        """Feed a quality evaluation (Metric event): FD for plateau / oscillation, diversity for mode collapse,
        the memorization ratio for copying."""
        out = self.update_diversity(step, diversity) + self._check_copying(step, memorization)
        if not math.isfinite(fd):
            return out
        self.quality = [q for q in self.quality if q[0] < step] + [(step, fd)]   # a rollback re-measures
        best_fd, best_step = self.best
        after = [f for s, f in self.quality if s > best_step]
        if not after:
            self._armed["plateau"] = self._armed["oscillation"] = True
            return out
        if len(after) < self.patience or step < PLATEAU_MIN_STEPS or step - best_step < PLATEAU_MIN_SPAN:
            return out       # too little training (in steps, whatever metric_every is) to call it converged
        recent = after[-self.patience:]
        swings = np.diff(recent)      # up, down, up ... each by more than 10 % of the best
        zigzag = len(swings) >= 2 and all(abs(x) > 0.1 * best_fd for x in swings) and \
            all(a * b < 0 for a, b in zip(swings, swings[1:]))
        latest = after[-1]
        export = Remedy(f"Export the best checkpoint (step {best_step:,})", {}, "export_best")
        evidence = {"best_fd": best_fd, "best_step": best_step, "latest_fd": latest, "evaluations": len(after)}
        if zigzag:
            return out + self._fire(
                "oscillation", step,
                f"FD swings between {min(recent):.3g} and {max(recent):.3g} over the "
                f"last {self.patience} evaluations without beating its best {best_fd:.3g} (step {best_step:,})",
                "G and D chase each other: the learning rates are too high to settle", evidence,
                [self._scale_lrs(0.5, "Halve both learning rates"), export])
        rising = latest > 1.2 * best_fd
        what = (f"FD rose from its best {best_fd:.3g} at step {best_step:,} to {latest:.3g} "
                f"(+{100 * (latest / best_fd - 1):.0f} %) over {len(after)} evaluations: the best samples were at "
                f"step {best_step:,}") if rising else \
            (f"FD has not improved on its best {best_fd:.3g} (step {best_step:,}) in {len(after)} evaluations "
             f"(latest {latest:.3g})")
        cause = "training has converged for these settings" if not rising else \
            "G is drifting away from its best state (over-training, or D overfitting)"
        if (further := self.expectations.get(self.config.preset, {}).get("further")) is not None:   # a new run: a note
            cause += f"; the {further.preset} preset reaches further: {further.note}"
        return out + self._fire(
            "plateau", step, what, cause, evidence,
            [export, self._scale_lrs(0.5, "Roll back to the best checkpoint and halve both learning rates",
                                     "rollback_best"), Remedy("Stop training", {}, "stop")])

    def _check_copying(self, step: int, ratio: float) -> list[HealthWarning]:
        if not math.isfinite(ratio):
            return []
        if ratio >= COPYING_REARM:
            self._armed["memorization"] = True
        if ratio >= COPYING_RATIO:
            return []
        d = self.config.data
        remedies = [Remedy("Enable adaptive augmentation (ADA, target 0.6)", {"ada_target": 0.6})] \
            if not d.ada_target else []
        if self.best is not None:
            remedies.append(Remedy(f"Roll back to the best checkpoint (step {self.best[1]:,})", {}, "rollback_best"))
        if not d.diffaugment:
            remedies.append(Remedy("Enable DiffAugment (translation, cutout)", {"diffaugment": "translation,cutout"},
                                   "resume"))
        return self._fire("memorization", step,
                          f"generated samples lie {ratio:.2f} x as far from their nearest training image as held-out "
                          f"real images do (memorization ratio {ratio:.2f}, healthy ~1, below {COPYING_RATIO}): "
                          f"G reproduces training images",
                          "the dataset is small for this network and D rewards copies; a low FD here is memorization, "
                          "not quality", {"memorization": ratio}, remedies[:3])

    def seed_quality(self, rows: Iterable[dict]) -> None:
        """Earlier evaluations of a resumed run (quality.jsonl rows), so 'best so far' spans the whole run."""
        self.quality = [(int(r["step"]), float(r["fd"])) for r in rows
                        if isinstance(r.get("fd"), (int, float)) and math.isfinite(r["fd"])]

    def update_diversity(self, step: int, diversity: float) -> list[HealthWarning]:
        """Feed the fixed-noise batch's diversity (sample_diversity of its features) whenever it is measured."""
        if not math.isfinite(diversity):
            return []
        self.best_diversity = max(self.best_diversity, diversity)
        if diversity >= 0.6 * self.best_diversity:
            self._armed["mode_collapse"] = True
        low_vs_best = diversity < 0.4 * self.best_diversity
        low_vs_real = self.real_diversity is None or diversity < 0.5 * self.real_diversity
        if not (low_vs_best and low_vs_real):
            return []
        real = f", real data {self.real_diversity:.3g}" if self.real_diversity is not None else ""
        o = self.config.optim
        remedies = [Remedy("Roll back to the best checkpoint", {}, "rollback_best")] if self.best is not None else []
        remedies.append(Remedy("Halve g_lr", {"g_lr": o.g_lr / 2}))
        return self._fire("mode_collapse", step,
                          f"sample diversity fell to {diversity:.3g} (best {self.best_diversity:.3g}{real}): the "
                          f"generator maps different noise to near-identical images",
                          "G found a few outputs that fool D and stopped exploring",
                          {"diversity": diversity, "best_diversity": self.best_diversity,
                           "real_diversity": self.real_diversity if self.real_diversity is not None else math.nan},
                          remedies)

    # -- helpers ----------------------------------------------------------------------------------------------
    def _clear(self, q: deque, ok) -> bool:
        """Re-arm test: the W-step and the S-step means both clear of the condition (hysteresis both ways)."""
        return len(q) >= self.window and ok(_tail_mean(q, self.window)) and ok(_tail_mean(q, self.short))

    def _preset_lrs(self) -> dict[str, float] | None:
        row = self.expectations.get(self.config.preset)   # a config loaded from a file may name no known preset
        return None if row is None else {"g_lr": row["g_lr"], "d_lr": row["d_lr"]}

    def _scale_lrs(self, factor: float, label: str, action: str = "") -> Remedy:
        o = self.config.optim
        return Remedy(label, {"g_lr": float(f"{o.g_lr * factor:.6g}"), "d_lr": float(f"{o.d_lr * factor:.6g}")},
                      action)

    def _fire(self, kind: str, step: int, message: str, cause: str, evidence: dict, remedies) -> list[HealthWarning]:
        if not self._armed[kind]:
            return []
        self._armed[kind] = False
        w = HealthWarning(kind, step, message, cause, dict(evidence), tuple(remedies))
        self.history.append(w)
        return [w]
