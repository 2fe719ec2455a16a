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
# # 07 · Your own images: fit, threshold, score
#
# <!-- colab-badge -->
# **On Colab** (the project has no public repository yet, so there is no Colab link): upload this notebook and the
# wheel that `make dist` builds (`dist/adda_keras-*.whl`); the first code cell installs the wheel.
# <!-- /colab-badge -->
#
# A folder of normal images from a production line, a microscope or a camera is all the library needs. This notebook
# trains ADA on such a folder, sets the threshold that turns scores into labels, and scores new images, with the same
# functions that the commands `adda-keras fit` and `adda-keras score` run.
#
# **What you will learn**
#
# - how an image folder data set is laid out, on an example that ships offline: crops of a brick photo that
#   scikit-image bundles, with scratches, stains and gravel patches as defects;
# - what `fit` does: normal validation images held out, training, a threshold, one saved file;
# - how the threshold is set without any anomaly (a target false-positive rate on held-out normal images), what it
#   does on test images, and why the minimum training score is not a threshold;
# - what `score` writes: a CSV of scores, labels and normalised scores, each image's anomaly map as data (`.npy`) and
#   as a picture;
# - how `calibrate` refits the threshold of a saved model without retraining;
# - how ADA compares with AnoVAEGAN and k-nearest neighbours on this example.
#
# <!-- run-time -->
# **Run time:** 12.5 min on a 2-core CPU in default mode (the run whose outputs are stored here, timed from its
# cells); on a GPU: not measured. **Last run:** 2026-11-29.
# <!-- /run-time -->
# On Colab: Runtime → Change runtime type → GPU. The outputs below are those of a default-mode run (30 epochs) on the
# 2-core development machine.

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
import csv
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from adda_keras import load_detector
from adda_keras.data import find_image_files, load_image_files
from adda_keras.data.textures import write_texture_folders
from adda_keras.evaluation import auroc, plot_roc
from adda_keras.experiments.own_images import (
    FitConfig,
    ScoreConfig,
    fit_folder,
    load_images_for,
    read_scores_csv,
    score_paths,
)
from adda_keras.tutorial import FAST, pick, show_images

plt.rcParams["figure.dpi"] = 80
EPOCHS = pick(30, 1)
WORK = Path("outputs/07_own_images")  # relative to this notebook; outputs/ is not committed
shutil.rmtree(WORK, ignore_errors=True)
print("fast mode" if FAST else "default mode", "| epochs:", EPOCHS)

# %% [markdown]
# ## A folder data set
#
# Normal images are 64×64 crops of a brick wall; anomalies are crops of the same wall with one generated defect.
# Training crops come from the top half of the photo, validation and test crops from the bottom half, so no validation
# or test pixel was seen in training. The folders follow the layout of MVTec AD, the
# benchmark that anomalib users know, plus `validation/good` and `validation/defects` (labelled validation anomalies,
# used at the end to choose ADA's β); `ground_truth/` holds each defect's mask (notebook 08 scores maps against such
# masks). The command `python scripts/texture_example.py write --output DIR --n-val-defects 40` writes the same folders.

# %%
counts = write_texture_folders(
    WORK / "data", n_train=pick(240, 48), n_val=pick(40, 20), n_test=pick(160, 32), seed=0, n_val_defects=pick(40, 8)
)
for folder, n in counts.items():
    print(f"{folder + '/':<20} {n:4d} images")

# %%
kinds = ["good", "scratch", "stain", "patch"]
examples = [find_image_files([WORK / "data" / "test" / kind])[:4] for kind in kinds]
fig = show_images(
    load_image_files([f for row in examples for f in row], (64, 64)),
    ncols=4,
    row_labels=kinds,
    size=1.5,
    suptitle="test images: normal, and one row per defect",
)

# %% [markdown]
# ## `fit`: hold out, train, threshold, save
#
# On the command line:
#
# ```bash
# adda-keras fit outputs/07_own_images/data/train/good --val-dir outputs/07_own_images/data/validation/good \
#     --method ada --image-size 64 --color grayscale --out outputs/07_own_images/ada.keras
# ```
#
# `fit_folder` is that command in Python. It trains on the normal images, sets the threshold on the *normal
# validation images* only, and saves one file with the networks, the settings and the threshold. Without `--val-dir`
# it holds out 10% of the training folder instead. That is fine for independent photos, but not for crops of the same
# photo: crops held out at random overlap training crops and score like them. On this example a threshold fitted on
# such crops flagged 98–100% of the normal test crops, for ADA, AnoVAEGAN and kNN alike; validation crops from a band
# of their own, just above the test band, still flagged 55% (the wall's pattern drifts down the photo). Validation
# images must be as new to the model as the images you will score, and like them. The networks grow with the image:
# 64×64 images get one more stride-2 stage than 28×28 digits.

# %%
report = fit_folder(
    FitConfig(
        normal_dir=str(WORK / "data" / "train" / "good"),
        out=str(WORK / "ada.keras"),
        val_dir=str(WORK / "data" / "validation" / "good"),
        method="ada",
        image_size=(64, 64),
        color="grayscale",
        epochs=EPOCHS,
        verbose=0,
    )
)
print(report.summary())
ada = report.detector

# %% [markdown]
# ## The threshold
#
# There are no anomalies to set a threshold with, and usually there are none in a deployment either. So the threshold
# is a *false-positive rate you accept* on normal validation images: by default the score that 5% of them exceed.
# `threshold_info_` records how it was made. With few validation images the measured rate is coarse (40 images:
# steps of 2.5%); use more images for a finer one.

# %%
print(f"threshold_ = {ada.threshold_:.5g}")
for key, value in ada.threshold_info_.items():
    print(f"  {key}: {value}")

# %% [markdown]
# What that threshold does on the test folder: the labels come from `predict`, which returns scores, maps and labels
# (1 = score above the threshold). The validation images never took part in training, so their false-positive rate
# estimates the test images': both come from the bottom half of the wall.
#
# The minimum score of the *training* images, the default some libraries fall back to when no validation images
# exist, would flag nearly every normal test image.

# %%
test_files, x_test = load_images_for(ada, [WORK / "data" / "test"])
y_test = np.array([0 if f.parent.name == "good" else 1 for f in test_files])
x_val = load_image_files(report.val_files, (64, 64), "grayscale")
x_train = load_image_files(report.train_files, (64, 64), "grayscale")
result = ada.predict(x_test)
print(
    f"test: {np.mean(result.labels[y_test == 0]):.0%} of normal images flagged, "
    f"{np.mean(result.labels[y_test == 1]):.0%} of anomalies flagged"
)
minimum = ada.score_samples(x_train).min()
print(
    f"at the minimum training score ({minimum:.4g}): "
    f"{np.mean(ada.predict(x_test, threshold=minimum).labels[y_test == 0]):.0%} of normal test images flagged"
)

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
val_scores = ada.score_samples(x_val)
bins = np.linspace(min(result.scores.min(), val_scores.min()), result.scores.max(), 40)
ax.hist(val_scores, bins, alpha=0.6, label="normal validation images", density=True)
ax.hist(result.scores[y_test == 0], bins, alpha=0.6, label="normal test images", density=True)
ax.hist(result.scores[y_test == 1], bins, alpha=0.6, label="test anomalies", density=True)
ax.axvline(ada.threshold_, color="black", linestyle="--", label="threshold (5% FPR on validation)")
ax.set(xlabel="ADA score", ylabel="density")
ax.legend(fontsize="small")
_ = ax.set_title("Scores and the threshold")

# %% [markdown]
# Fewer false alarms cost missed anomalies. `fit_threshold` refits the threshold at another rate (`--target-fpr` on
# the command line); with labelled validation anomalies (`--known-anomaly DIR`), best F1 or a target recall. A saved
# model gets the same without retraining from `adda-keras calibrate MODEL --val-dir DIR --target-fpr 0.01 --out NEW`
# (`calibrate_model` in Python): the networks are copied unchanged into the new file.

# %%
print("target FPR   threshold   test FPR   test recall")
for target in (0.01, 0.05, 0.1, 0.2):
    labels = ada.fit_threshold(x_val, target_fpr=target).predict(x_test).labels
    false_alarms, recall = labels[y_test == 0].mean(), labels[y_test == 1].mean()
    print(f"{target:10.0%}   {ada.threshold_:9.4g}   {false_alarms:8.0%}   {recall:11.0%}")
ada.fit_threshold(x_val)  # back to the default, 5%
print(f"threshold_ = {ada.threshold_:.5g}")

# %% [markdown]
# ## `score`: a CSV, maps as data and a picture per image
#
# ```bash
# adda-keras score outputs/07_own_images/ada.keras outputs/07_own_images/data/test \
#     --out outputs/07_own_images/ada.csv --maps outputs/07_own_images/maps --overlays outputs/07_own_images/overlays
# ```
#
# The image size and colour mode come from the saved model, so images are read the way the model was trained. Each
# row of the CSV holds the path, the score, the label, the threshold and the **normalised score**, a monotone
# rescaling of the score on which a typical normal validation image sits at 0 and the threshold at 1.0: raw ADA
# scores have no fixed scale and are often negative (the score subtracts β·D(x), the discriminator's belief that the
# image is normal), the normalised one reads the same for every model. `--maps` saves each image's anomaly map as a
# float32 `.npy` array at the size of the image file, for pixel-level work; `--overlays` draws a picture per image.

# %%
scored = score_paths(
    ScoreConfig(
        str(WORK / "ada.keras"),
        [str(WORK / "data" / "test")],
        str(WORK / "ada.csv"),
        maps=str(WORK / "maps"),
        overlays=str(WORK / "overlays"),
    )
)
print(scored.summary())

# %% [markdown]
# The first rows of the CSV, with the paths shortened to the file names and without the map and overlay columns:

# %%
with open(WORK / "ada.csv", newline="") as handle:
    rows = list(csv.DictReader(handle))
print(f"{'file':<22}{'score':>10}{'label':>7}{'normalised_score':>18}")
for row in rows[:3] + rows[-3:]:
    print(f"{Path(row['path']).name:<22}{float(row['score']):>10.4f}{row['label']:>7}{row['normalised_score']:>18}")
print("map file:", Path(rows[0]["map"]).name, np.load(rows[0]["map"]).shape, np.load(rows[0]["map"]).dtype)

# %% [markdown]
# One picture per kind of test image below (the first of each folder). Each shows the input, its anomaly map (ADA's
# attention-weighted squared residual) over it on a colour scale that ends at the 99.9th percentile of the normal
# validation images' maps, and, in cyan, the outline of the pixels above that level. The line above the picture is
# the verdict for the image's *score*: "ANOMALY" above the threshold, "normal (below threshold)" otherwise. An image
# that visibly has a defect and is still labelled "normal" is a **miss**: its score stayed below the threshold (at 5%
# false positives this model flags only part of the test defects, as printed above), even where its map lights up at
# the defect.

# %%
picks = [next(i for i, f in enumerate(scored.files) if f.parent.name == kind) for kind in kinds]
fig, axes = plt.subplots(4, 1, figsize=(6.5, 10))
for ax, index, kind in zip(axes.flat, picks, kinds, strict=True):
    ax.imshow(plt.imread(scored.overlay_files[index]))
    ax.set_title(f"test/{kind}", fontsize="small")
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# The command line and the Python API give the same scores: a model loaded from its file, reading the same files.

# %%
# NBVAL_CHECK_OUTPUT
table = read_scores_csv(WORK / "ada.csv")
loaded = load_detector(WORK / "ada.keras")
files, images = load_images_for(loaded, [WORK / "data" / "test"])
same_scores = np.allclose(table["scores"], loaded.score_samples(images), rtol=1e-6, atol=1e-9)
print(
    f"same files: {[str(f) for f in files] == table['paths']}\n"
    f"same scores: {same_scores}\n"
    f"same threshold: {loaded.threshold_ == ada.threshold_}"
)

# %% [markdown]
# ## ADA, AnoVAEGAN and k-nearest neighbours
#
# AnoVAEGAN is the plain pixel residual of the same VAEGAN (`variant`, no retraining); kNN is the mean distance to the
# nearest normal training images, on raw pixels (`--method knn`, saved as `.pkl`). The image-level AUROC on the test
# folder, overall and for each kind of defect against the normal test images:

# %%
knn = fit_folder(
    FitConfig(
        normal_dir=str(WORK / "data" / "train" / "good"),
        out=str(WORK / "knn.pkl"),
        val_dir=str(WORK / "data" / "validation" / "good"),
        method="knn",
        image_size=(64, 64),
        color="grayscale",
    )
).detector
methods = {
    "ADA": ada,
    "ADA, CAM only": ada.variant("ada-cam-only"),
    "D only": ada.variant("ada-d-only"),
    "AnoVAEGAN": ada.variant("anovaegan"),
    "kNN (pixels)": knn,
}
method_scores = {name: detector.score_samples(x_test) for name, detector in methods.items()}
kind_of = np.array([f.parent.name for f in test_files])
print(f"{'method':<14}{'all':>7}" + "".join(f"{k:>9}" for k in kinds[1:]))
for name, s in method_scores.items():
    per_kind = [auroc(y_test[np.isin(kind_of, ["good", k])], s[np.isin(kind_of, ["good", k])]) for k in kinds[1:]]
    print(f"{name:<14}{auroc(y_test, s):7.3f}" + "".join(f"{v:9.3f}" for v in per_kind))

# %%
fig = plot_roc({name: (y_test, s) for name, s in method_scores.items()}, title="Brick textures, 64×64")

# %% [markdown]
# Read the "D only" row first. On these textures the discriminator's belief `D(x)` runs the wrong way: it finds the
# defective crops *more* normal than the good ones (an AUROC far below 0.5), so ADA's `−β·D(x)` term costs it, and the
# attention-weighted residual alone ("CAM only", β = 0) is the best score here. The default β = 0.5 was chosen on noisy
# MNIST validation data, where `D(x)` helps; it does not transfer to every kind of image. These rows use the test
# folder's labels, so they diagnose; they must not choose β. To choose β for your own images, keep a few labelled
# anomalies *for validation*: `ada.choose_beta(x_val, x_val_anomalies)` compares the β of a small grid (0 included)
# by how well they separate them, and `adda-keras fit --method ada --known-anomaly DIR` (or `adda-keras calibrate
# --known-anomaly DIR --beta-from-known`) does the same with the images of `DIR`. With a handful of anomalies the best
# of seven AUROCs is often best by chance, so the current β is kept unless another beats it by more than two
# standard errors of the gain (a bootstrap over the labelled images); the choice and its uncertainty are printed.
# Here, with the validation defects written at the start (drawn apart from the test folder):

# %%
x_val_defects = load_image_files(find_image_files([WORK / "data" / "validation" / "defects"]), (64, 64), "grayscale")
tuned = ada.variant().choose_beta(x_val, x_val_defects)  # a copy: `ada` keeps the default β
print("validation AUROC per beta:", {beta: round(value, 3) for beta, value in tuned.beta_validation_.items()})
choice = tuned.beta_choice_
print(
    f"best {choice['best']:g} gains {choice['gain']:+.3f} +- {choice['gain_se']:.3f} over the default "
    f"{choice['current']:g} ({choice['n_anomalies']} anomalies): beta {tuned.beta:g}"
)
print(f"test AUROC with it: {auroc(y_test, tuned.score_samples(x_test)):.3f}")

# %% [markdown]
# The validation defects rank the candidates as the test folder does: the more weight on `D(x)`, the worse. With 40
# of them, β = 0 beats the default by far more than the sampling uncertainty, so it replaces it, and the test AUROC
# (printed only after the choice) is the "CAM only" row above. The choice used no test image.

# %% [markdown]
# ## Takeaway
#
# Point `adda-keras fit` at a folder of normal images and `adda-keras score` at new ones: the model file carries the
# networks, the preprocessing (size and colour) and a threshold fitted on held-out normal images at the false-positive
# rate you choose; `adda-keras calibrate` refits that threshold (or β) on new validation images without retraining,
# and `adda-keras export` writes the model as a TensorFlow SavedModel or TFLite file that returns score, map and label
# without adda_keras. Compare with simpler scores before trusting a deep model: the pixel residual of the same VAEGAN
# and kNN on raw pixels, and, if you have a few labelled anomalies to validate on, ADA without its `D(x)` term.
# Notebook 08 asks whether the maps point at the defect pixels.
