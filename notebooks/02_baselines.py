# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Baselines: AnoVAE, AnoGAN, AnoVAEGAN
#
# The paper's three reconstruction baselines on noisy MNIST, and why pixel residuals struggle with noise.
# A pixel-wise residual counts every noisy background pixel as evidence of an anomaly.
#
# <!-- colab-badge -->
# **On Colab** (the project has no public repository yet, so there is no Colab link): upload this notebook and the
# wheel that `make dist` builds (`dist/adda_keras-*.whl`); the first code cell installs the wheel.
# <!-- /colab-badge -->
#
# **What you will learn**
#
# - how the three baselines score an image: AnoVAE and AnoVAEGAN by the pixel residual `mean (x - x̂)²` of a
#   reconstruction, AnoGAN by a search for the latent code whose generated image is closest to `x`;
# - how to train them with `make_detector(...).fit(...)` and look at their reconstructions and residual maps;
# - why pixel residuals suffer under background noise: every noise pixel adds to the residual of normal and anomalous
#   images alike, and AUROC drops between clean and noisy data.
#
# <!-- run-time -->
# **Run time:** 1.7 min on a 2-core CPU in default mode (the run whose outputs are stored here, timed from its cells);
# on a GPU: not measured. **Last run:** 2026-12-08.
# <!-- /run-time -->
# On Colab: Runtime → Change runtime type → GPU.

# %%
# colab-setup: begin (written by scripts/sync_notebooks.py; edit that script, not this cell)
import glob
import os
import subprocess
import sys

REPO_URL = "https://github.com/adda-keras/adda_keras"  # a placeholder: the project is not published yet
if "google.colab" in sys.modules:  # on Colab: install adda_keras from an uploaded wheel, else from REPO_URL
    wheels = sorted(glob.glob("/content/adda_keras-*.whl"))
    source = wheels[-1] if wheels else f"adda-keras @ git+{REPO_URL}"
    print("Colab set-up: installing adda_keras from", "the uploaded wheel" if wheels else "REPO_URL", source)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", source],
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},  # fail, rather than ask for a password
    )
    if install.returncode != 0:
        raise RuntimeError(
            f"Colab set-up: cannot install adda_keras from {source}:\n{install.stderr[-1500:]}\n"
            "Upload the wheel that `make dist` builds (dist/adda_keras-*.whl) with the Files panel "
            "and run this cell again."
        )
# colab-setup: end

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from adda_keras import make_detector
from adda_keras.data import BackgroundNoise, apply_noise, load_mnist, one_class_split
from adda_keras.evaluation import auroc, plot_roc
from adda_keras.tutorial import FAST, pick, show_images

plt.rcParams["figure.dpi"] = 80
EPOCHS = pick(20, 1)  # 20 epochs of ~600 images, as the "quick" preset (the training times are printed below)
print("fast mode" if FAST else "default mode", "| epochs:", EPOCHS)

# %% [markdown]
# ## Data: digit 0 is normal, with and without noise
#
# The same split twice: clean, and with the project's background noise (notebook 01). `apply_noise` keeps the order
# of the images, so `clean.x_test[i]` is the clean version of `noisy.x_test[i]`; the pixels where they differ (by more
# than 0.1, the faint tails of the blobs aside) are the noise.

# %%
mnist = load_mnist("bundled")
clean = one_class_split(
    mnist.images,
    mnist.labels,
    normal_class=0,
    seed=0,
    test_fraction=pick(0.3, 0.05),
    max_test_anomalies_per_class=pick(50, 5),
)
noisy = apply_noise(clean, BackgroundNoise(strength=1.0), seed=0)
n_train = pick(len(clean.x_train), 128)
print(noisy.summary())
noise_mask = (noisy.x_test - clean.x_test)[..., 0] > 0.1  # the visible noise pixels of each test image
print(f"noise covers {noise_mask.mean():.0%} of the test pixels")

# %% [markdown]
# ## Three baselines, one API
#
# | name | model | score |
# |---|---|---|
# | `anovae` | VAE (encoder + decoder) | pixel residual `mean (x - x̂)²` |
# | `anogan` | DCGAN (decoder + discriminator), no encoder | final loss of a latent search (below) |
# | `anovaegan` | VAEGAN (encoder + decoder + discriminator) | pixel residual `mean (x - x̂)²` |
#
# AnoGAN's search minimises `(1 - λ)·‖x - G(z)‖₁ + λ·‖f_D(x) - f_D(G(z))‖₁` over `z` (λ = 0.1, `f_D` the
# discriminator's features).
#
# All share one architecture family (the VAEGAN's encoder, decoder and discriminator), as in the paper. Each is
# trained on normal images only; the validation images only feed the validation losses.

# %%
detectors = {
    "AnoVAE": make_detector("anovae", epochs=EPOCHS, seed=0),
    "AnoGAN": make_detector("anogan", epochs=EPOCHS, seed=0, search_steps=pick(50, 10)),
    "AnoVAEGAN": make_detector("anovaegan", epochs=EPOCHS, seed=0),
}
scores = {}
for name, detector in detectors.items():
    start = time.perf_counter()
    detector.fit(noisy.x_train[:n_train], x_val=noisy.x_val)
    trained = time.perf_counter() - start
    scores[name] = detector.score_samples(noisy.x_test)
    scored = time.perf_counter() - start - trained
    print(f"{name:<10} trained in {trained:5.1f} s, scored {len(noisy.x_test)} images in {scored:5.1f} s")

# %% [markdown]
# AnoGAN has no encoder: scoring runs an optimisation (`search_steps` Adam steps, 50 here, 100 by default, a few hundred
# in the paper) for every image, which makes it by far the slowest to score.
#
# ## Reconstructions
#
# A few normal and anomalous test images, their reconstructions by AnoVAE and AnoVAEGAN, and AnoGAN's map
# `|x - G(z*)|` for the best latent code found. The reconstructions are trained on noisy normal zeros: they
# reproduce a blurry zero and some of the noise, never the exact noise pattern of an image, which is random.

# %%
picks = np.r_[np.flatnonzero(noisy.y_test == 0)[:3], [np.flatnonzero(noisy.test_classes == d)[0] for d in (2, 5, 7)]]
images = noisy.x_test[picks]
reconstructions = {
    "AnoVAE x̂": np.asarray(detectors["AnoVAE"].model_(images)),
    "AnoVAEGAN x̂": detectors["AnoVAEGAN"].explain(images)["reconstruction"],
}
maps = {name: detector.anomaly_map(images) for name, detector in detectors.items()}
rows = [images, *reconstructions.values(), maps["AnoGAN"][..., None] / maps["AnoGAN"].max()]
fig = show_images(
    np.concatenate(rows),
    ncols=len(picks),
    titles=[f"{'anomaly' if noisy.y_test[i] else 'normal'} ({noisy.test_classes[i]})" for i in picks]
    + [""] * (len(picks) * 3),
    row_labels=["input x", *reconstructions, "AnoGAN |x - G(z*)|"],
)

# %% [markdown]
# ## Where the residual comes from
#
# The per-pixel residual maps of the same images (brighter = larger residual). Much of the residual sits on the
# strokes, blobs and speckles of the background, in the normal images as much as in the anomalies.

# %%
fig = show_images(
    np.concatenate([images[..., 0], *(m / m.max(axis=(1, 2), keepdims=True) for m in maps.values())]),
    ncols=len(picks),
    cmap="magma",
    row_labels=["input x", *(f"{name} residual" for name in maps)],
)

# %% [markdown]
# Measured over the whole test set: the share of each detector's residual that lies on noise pixels, against the
# share of the image the noise covers.

# %%
all_maps = {name: detector.anomaly_map(noisy.x_test) for name, detector in detectors.items() if name != "AnoGAN"}
all_maps["AnoGAN"] = maps["AnoGAN"]  # the latent search is slow: the six images above
print(f"noise pixels: {noise_mask.mean():.0%} of the image")
for name, residual in all_maps.items():
    mask = noise_mask if len(residual) == len(noise_mask) else noise_mask[picks]
    share = (residual * mask).sum(axis=(1, 2)) / residual.sum(axis=(1, 2))
    print(f"{name:<10} {share.mean():.0%} of the residual lies on noise pixels")

# %% [markdown]
# A pixel residual has no way to discount the noise: the noise pixels take a share of the residual roughly in line with
# the area they cover, or more where the model reconstructs them badly, in every image, normal or not.

# %% [markdown]
# ## Noise costs AUROC
#
# On the noisy test set:

# %%
curves = {name: (noisy.y_test, s) for name, s in scores.items()}
fig = plot_roc(curves, title="Baselines on noisy MNIST, normal digit 0")

# %% [markdown]
# Two things in this figure need a word (its legend gives each AUROC).
#
# **AnoVAE is ahead of AnoVAEGAN**, although the VAEGAN is the richer model. Its decoder is trained for one thing, to
# reproduce the pixels, and its pixel residual is exactly that loss. The VAEGAN's decoder also has to fool the
# discriminator, and the real images the discriminator sees are noisy, so it draws noise-like detail of its own that
# never matches an image's actual noise: in the measurement above, 50% of AnoVAEGAN's residual lies on the noise pixels
# (37% of the image) against 39% of AnoVAE's. That extra residual falls on normal and anomalous images alike and
# blurs the contrast. The quick-preset tables find the same order on the mean over all ten digits (0.895 against
# 0.880, `results/quick/table1-noisy/table.md`). ADA is built on the VAEGAN because its discriminator is what gives
# the attention.
#
# **AnoGAN is near chance** (its curve follows the diagonal). Without an encoder, it scores an image by searching for
# the latent code whose generated image is closest to it, and a generator of noisy zeros, searched for 50 steps, gets
# about as close to an anomaly as to a normal zero: its residual map above is large on both. Its final loss then says
# more about how much ink and noise an image has than about whether it is a zero; the quick tables find it at chance
# on every digit (mean 0.499, `results/quick/table1-noisy/table.md`).
#
# The same VAEGAN trained and tested on the **clean** split, for comparison: the normal images' residuals grow with
# the noise and overlap more with the anomalies'.

# %%
clean_vaegan = make_detector("anovaegan", epochs=EPOCHS, seed=0).fit(clean.x_train[:n_train], x_val=clean.x_val)
clean_scores = clean_vaegan.score_samples(clean.x_test)
aurocs = {"clean": auroc(clean.y_test, clean_scores), "noisy": auroc(noisy.y_test, scores["AnoVAEGAN"])}
print({kind: round(value, 3) for kind, value in aurocs.items()})

fig, axes = plt.subplots(1, 3, figsize=(11, 3), gridspec_kw={"width_ratios": [2, 2, 1]})
for ax, (kind, data, s) in zip(
    axes, (("clean", clean, clean_scores), ("noisy", noisy, scores["AnoVAEGAN"])), strict=False
):
    bins = np.linspace(s.min(), s.max(), 40)
    ax.hist(s[data.y_test == 0], bins, alpha=0.6, density=True, label="normal")
    ax.hist(s[data.y_test == 1], bins, alpha=0.6, density=True, label="anomaly")
    ax.set(title=f"AnoVAEGAN, {kind} data", xlabel="pixel residual score")
    ax.legend(fontsize="small")
axes[2].bar(list(aurocs), list(aurocs.values()), color=["C2", "C3"])
axes[2].set(ylim=(0.5, 1.0), ylabel="AUROC")
_ = axes[2].set_title("AnoVAEGAN AUROC")
fig.tight_layout()

# %% [markdown]
# ## Takeaway
#
# A pixel residual treats every pixel alike, so background noise that a model cannot predict becomes "anomaly" in
# normal and anomalous images alike, and the score's contrast shrinks. The VAEGAN's discriminator, however, has
# learned what a normal digit looks like. Notebook 03 shows *where* it looks, and notebook 04 uses that attention to
# weight the residual.

# %% [markdown]
# ## Exercises
#
# 1. Score AnoVAEGAN's reconstructions by the mean *absolute* error instead of the squared one. Does the AUROC
#    change? (`detector.explain(images)["reconstruction"]` gives the VAEGAN's reconstructions.)
# 2. For which anomaly digit is AnoVAEGAN's pixel residual weakest? Compute the AUROC of the normal zeros against
#    each anomaly digit alone.
#
# Each solution is in the collapsed cell below its number: click it to open it.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution 1: the absolute error weighs the many small noise residuals more, relative to the few large ones.
x_hat = detectors["AnoVAEGAN"].explain(noisy.x_test)["reconstruction"]
l1 = np.abs(noisy.x_test - x_hat).mean(axis=(1, 2, 3))
print(
    f"squared error AUROC {auroc(noisy.y_test, scores['AnoVAEGAN']):.3f}, absolute error AUROC "
    f"{auroc(noisy.y_test, l1):.3f}"
)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution 2: digits that share much ink with a zero (6, 8, 9 say) tend to be the hard ones.
per_digit = {}
for digit in range(1, 10):
    keep = np.isin(noisy.test_classes, [0, digit])
    per_digit[digit] = auroc(noisy.y_test[keep], scores["AnoVAEGAN"][keep])
print({digit: round(value, 3) for digit, value in per_digit.items()})
print("weakest on digit", min(per_digit, key=per_digit.get))
