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
# # 00 · One-class anomaly detection in a nutshell
#
# Train on normal images only, score every test image, and judge the scores by AUROC and by thresholds.
# Thresholds are fitted on normal validation images, never on the test set.
#
# <!-- colab-badge -->
# **On Colab** (the project has no public repository yet, so there is no Colab link): upload this notebook and the
# wheel that `make dist` builds (`dist/adda_keras-*.whl`); the first code cell installs the wheel.
# <!-- /colab-badge -->
#
# **What you will learn**
#
# - the one-class protocol of the paper: one MNIST digit is normal, the other nine are anomalies;
# - what an anomaly score is, and how the library's detectors are made, fitted and asked for scores and maps;
# - AUROC, the paper's threshold-free metric, and the ROC curve;
# - how to pick a threshold on *normal validation* scores (never on the test set) and where it lands on the ROC curve.
#
# <!-- run-time -->
# **Run time:** 15 s on a 2-core CPU in default mode (the run whose outputs are stored here, timed from its cells); on
# a GPU: not measured. **Last run:** 2026-11-29.
# <!-- /run-time -->
# On Colab: Runtime → Change runtime type → GPU.
#
# Every notebook has a *fast mode* for the test suite: `ADDA_KERAS_FAST=1` shrinks data and epochs so that it runs in
# seconds (its numbers are then meaningless). The default mode is the tutorial.

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
import matplotlib.pyplot as plt
import numpy as np

from adda_keras import available_detectors, make_detector
from adda_keras.data import BackgroundNoise, apply_noise, load_mnist, one_class_split
from adda_keras.evaluation import auroc, plot_roc, threshold_at_fpr
from adda_keras.tutorial import FAST, pick, show_images

plt.rcParams["figure.dpi"] = 80
print("fast mode" if FAST else "default mode")

# %% [markdown]
# ## The protocol: one digit is normal
#
# The repository bundles the real MNIST test set (10,000 images), so everything runs offline. `one_class_split`
# makes one digit normal and splits its images into train, validation and test; the other nine digits are anomalies
# and appear **only in the test set**. Train and validation hold normal images only: that is all a one-class detector
# may see.

# %%
mnist = load_mnist("bundled")
split = one_class_split(
    mnist.images,
    mnist.labels,
    normal_class=0,
    seed=0,
    max_test_anomalies_per_class=pick(300, 10),  # a seeded subsample of each anomaly digit, to keep it quick
)
x_train = split.x_train[: pick(len(split.x_train), 128)]
print(mnist.source, len(mnist), "images")
print(split.summary())

# %%
rng = np.random.default_rng(0)
shown = np.r_[
    rng.choice(np.flatnonzero(split.y_test == 0), 4, replace=False),
    rng.choice(np.flatnonzero(split.y_test == 1), 8, replace=False),
]
fig = show_images(
    split.x_test[shown],
    titles=[f"{'anomaly' if split.y_test[i] else 'normal'} ({split.test_classes[i]})" for i in shown],
    ncols=6,
)

# %% [markdown]
# ## A detector gives every image a score
#
# Every method of the library is made by name with `make_detector`, trained with `fit` on normal images and asked for
# `score_samples` (one score per image, **higher = more anomalous**) or `anomaly_map` (one map per pixel). The deep
# methods of the paper train GANs and take minutes; this overview uses a classical, instant one: the mean distance to
# the `k` nearest normal training images, on raw pixels.

# %%
# NBVAL_CHECK_OUTPUT
print(available_detectors())

# %%
knn = make_detector("knn", n_neighbors=5).fit(x_train)
val_scores = knn.score_samples(split.x_val)  # normal validation images
test_scores = knn.score_samples(split.x_test)
print(knn)

# %%
fig, ax = plt.subplots(figsize=(6, 3))
bins = np.linspace(test_scores.min(), test_scores.max(), 40)
ax.hist(test_scores[split.y_test == 0], bins, alpha=0.6, density=True, label="normal (test)")
ax.hist(test_scores[split.y_test == 1], bins, alpha=0.6, density=True, label="anomalies (test)")
ax.hist(val_scores, bins, histtype="step", color="k", density=True, label="normal (validation)")
ax.set_xlabel("kNN score: mean distance to the 5 nearest normal images")
ax.legend(fontsize="small")
_ = ax.set_title("Scores separate the two groups, but not perfectly")

# %% [markdown]
# ## AUROC: one number for the whole score distribution
#
# Pick any threshold: images scoring above it are flagged. The **true-positive rate** is the share of anomalies
# flagged, the **false-positive rate** the share of normal images flagged. Sweeping the threshold draws the ROC curve;
# the area under it (AUROC) is the probability that a random anomaly scores higher than a random normal image. 0.5 is
# chance, 1 is perfect. It needs no threshold, which is why the paper reports it.

# %%
print(f"kNN AUROC on the test set: {auroc(split.y_test, test_scores):.3f}")

# %% [markdown]
# ## Thresholds: fitted on normal validation scores
#
# A deployed detector needs a threshold. Fitting it on the test set would be cheating, and in one-class detection we
# have no labelled anomalies to fit it on anyway. `threshold_at_fpr` takes the scores of *normal validation* images and
# returns the threshold that flags a chosen share of them: the false-positive rate we are willing to pay. On the test
# set the realised rates land near the target, and the ROC curve tells what true-positive rate that buys.

# %%
normal, anomalous = test_scores[split.y_test == 0], test_scores[split.y_test == 1]
targets = (0.01, 0.05, 0.2)
thresholds = {target: threshold_at_fpr(val_scores, target) for target in targets}
print("target FPR   threshold   test FPR   test TPR")
for target, threshold in thresholds.items():
    fpr, tpr = (normal > threshold).mean(), (anomalous > threshold).mean()
    print(f"{target:10.2f}   {threshold:9.3f}   {fpr:8.3f}   {tpr:8.3f}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
plot_roc({"kNN": (split.y_test, test_scores)}, ax=right)
for (target, threshold), colour in zip(thresholds.items(), ("C1", "C2", "C3"), strict=True):
    fpr, tpr = (normal > threshold).mean(), (anomalous > threshold).mean()
    right.plot(fpr, tpr, "o", color=colour, markersize=8, label=f"val FPR {target:.0%}")
    left.axvline(threshold, color=colour, linestyle="--")
right.set(xlim=(0, 0.4), ylim=(0.6, 1.01), title="ROC curve (zoomed) and three operating points")
right.legend(loc="lower right", fontsize="small")
left.hist(normal, bins, alpha=0.6, density=True, label="normal (test)")
left.hist(anomalous, bins, alpha=0.6, density=True, label="anomalies (test)")
left.set_xlabel("kNN score")
left.legend(fontsize="small", loc="upper right")
_ = left.set_title("Thresholds (dashed) for val FPR 1%, 5%, 20%")
fig.tight_layout()

# %% [markdown]
# A lower threshold flags more anomalies *and* more normal images: the operating point climbs the ROC curve to the
# right. The AUROC summarises all operating points at once. (Where a few labelled anomalies exist, as in notebook 05,
# `adda_keras.evaluation.threshold_best_f1` picks the threshold with the best F1 on validation data instead.)
#
# ## Anomaly maps: where the detector sees the anomaly
#
# Most detectors also explain a score with a per-pixel map. For kNN it is the squared difference to the nearest
# normal training image.

# %%
maps = knn.anomaly_map(split.x_test[shown[2:8]])
fig = show_images(
    split.x_test[shown[2:8]],
    overlays=maps,
    titles=[f"score {s:.2f}" for s in test_scores[shown[2:8]]],
)

# %% [markdown]
# ## The catch: background noise
#
# The paper's point is *robustness*. Add spurious strokes, blobs and speckles to the background of every image (train
# and test, normal and anomalous alike; notebook 01 shows the recipe) and pixel-based detectors lose part of their
# power, because the noise enters every pixel comparison.

# %%
noisy = apply_noise(split, BackgroundNoise(strength=1.0), seed=0)
fig = show_images(noisy.x_test[shown[:6]], titles=["noisy"] * 6)

# %% [markdown]
# Digit 0 is an easy case for pixel detectors. Over every normal digit the drop is plain (kNN and PCA take a second
# each, so we can afford all ten digits):

# %%
digits = pick(list(range(10)), [0, 1])
pixel_auroc = {(name, kind): [] for name in ("knn", "pca") for kind in ("clean", "noisy")}
for digit in digits:
    clean_split = one_class_split(
        mnist.images, mnist.labels, normal_class=digit, seed=0, max_test_anomalies_per_class=pick(100, 10)
    )
    noisy_split = apply_noise(clean_split, BackgroundNoise(strength=1.0), seed=0)
    for kind, data in (("clean", clean_split), ("noisy", noisy_split)):
        for name in ("knn", "pca"):
            detector = make_detector(name).fit(data.x_train[: pick(len(data.x_train), 128)])
            pixel_auroc[name, kind].append(auroc(data.y_test, detector.score_samples(data.x_test)))

fig, ax = plt.subplots(figsize=(8, 3))
width = 0.2
colours = {("knn", "clean"): "tab:blue", ("knn", "noisy"): "lightskyblue"}
colours |= {("pca", "clean"): "tab:green", ("pca", "noisy"): "lightgreen"}
for offset, (key, values) in enumerate(pixel_auroc.items()):
    x = np.arange(len(digits)) + (offset - 1.5) * width
    ax.bar(x, values, width, color=colours[key], label=f"{key[0]}, {key[1]}")
ax.set(xticks=range(len(digits)), xticklabels=digits, xlabel="normal digit", ylabel="AUROC", ylim=(0.5, 1.1))
ax.legend(ncols=4, fontsize="small", loc="upper center")
_ = ax.set_title("Pixel detectors lose AUROC under background noise")
for key, values in pixel_auroc.items():
    print(f"{key[0]:>4} {key[1]}: mean AUROC {np.mean(values):.3f}")

# %% [markdown]
# ## Where next
#
# - **01 · Data**: MNIST with background noise, the splits, your own image folders.
# - **02 · Baselines**: AnoVAE, AnoGAN, AnoVAEGAN, and why pixel residuals fail under noise.
# - **03 · Attention**: where the discriminator of a VAEGAN looks (CAM, Grad-CAM).
# - **04 · ADA, self-supervised**: the attention-weighted score, β, the ablations.
# - **05 · ADA, semi-supervised**: a few known anomalies and a second discriminator.
# - **06 · Results**: the reproduced tables beside the paper's.
# - **07 · Your own images**: a folder of normal images, `fit`, a threshold, `score`, from Python and the command line.
# - **08 · Localisation**: where the anomaly is, scored against defect masks, with a classical patch-kNN beside ADA.
# - **09 · Real images** (`09_real_images`): the detectors on benchmarks of real photographs.

# %% [markdown]
# ## Exercises
#
# 1. Fit the threshold for a 10% false-positive rate on the normal *validation* scores. Which share of the normal and
#    of the anomalous *test* images does it flag? Is the test false-positive rate exactly 10%, and why not?
# 2. Score the test set with `make_detector("knn", n_neighbors=1)` instead of 5 neighbours. Does the AUROC move?
# 3. AUROC depends only on the *order* of the scores. Check it: compute the AUROC of `np.log(test_scores)`.
#
# Each solution is in the collapsed cell below its number: click it to open it.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution 1: the threshold comes from normal validation scores only; on the test set the false-positive rate is
# close to, not equal to, the target: the validation and test normals are different samples.
threshold_10 = threshold_at_fpr(val_scores, 0.10)
print(f"threshold {threshold_10:.4g}: flags {(normal > threshold_10).mean():.1%} of the normal test images")
print(f"and {(anomalous > threshold_10).mean():.1%} of the anomalous ones")

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution 2: one neighbour is noisier (a single close training image decides), five average that out.
knn_1 = make_detector("knn", n_neighbors=1).fit(x_train)
print(f"AUROC with 1 neighbour {auroc(split.y_test, knn_1.score_samples(split.x_test)):.3f}")
print(f"AUROC with 5 neighbours {auroc(split.y_test, test_scores):.3f}")

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution 3: log is increasing, so the order of the scores, and with it the AUROC, does not change.
print(auroc(split.y_test, test_scores) == auroc(split.y_test, np.log(test_scores + 1e-12)))
