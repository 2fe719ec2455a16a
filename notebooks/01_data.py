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
# # 01 · Data: MNIST with background noise
#
# The data behind every experiment: MNIST, the project's seeded background noise, the splits and your own images.
#
# <!-- colab-badge -->
# **On Colab** (the project has no public repository yet, so there is no Colab link): upload this notebook and the
# wheel that `make dist` builds (`dist/adda_keras-*.whl`); the first code cell installs the wheel.
# <!-- /colab-badge -->
#
# **What you will learn**
#
# - where MNIST comes from (`load_mnist`) and the library's array convention;
# - the noise recipe of "MNIST with noise": strokes, blobs and salt pixels, each kind and strength in pictures, and
#   why the digit itself is never touched;
# - the one-class split (`one_class_split`) and the semi-supervised split (`semi_supervised_split`), with a check that
#   known anomalies never leak into the test set;
# - how to load your own images with `load_folder_dataset`.
#
# <!-- run-time -->
# **Run time:** 6 s on a 2-core CPU in default mode (the run whose outputs are stored here, timed from its cells); on
# a GPU: not measured. **Last run:** 2026-12-08.
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
import hashlib
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from adda_keras.data import (
    NOISE_KINDS,
    BackgroundNoise,
    add_background_noise,
    apply_noise,
    digit_support,
    load_folder_dataset,
    load_mnist,
    one_class_split,
    semi_supervised_split,
)
from adda_keras.tutorial import FAST, pick, show_images

plt.rcParams["figure.dpi"] = 80
print("fast mode" if FAST else "default mode")

# %% [markdown]
# ## MNIST, offline
#
# `load_mnist("bundled")` reads the real MNIST **test set** (10,000 images, CC BY-SA 3.0) that ships in `data/mnist/`.
# With a network, `load_mnist("keras")` or `"tfds"` gives all 70,000 images, and `"auto"` tries those first and falls
# back to the bundled files. Every function of the library speaks one convention: images are float32
# `(N, H, W, C)` arrays in [0, 1], labels int64 `(N,)`.

# %%
mnist = load_mnist("bundled")
print(mnist.source, mnist.images.shape, mnist.images.dtype, mnist.labels.shape, mnist.labels.dtype)
print("images per digit:", dict(enumerate(np.bincount(mnist.labels).tolist())))
first = [int(np.flatnonzero(mnist.labels == d)[0]) for d in range(10)]
fig = show_images(mnist.images[first], titles=[str(d) for d in range(10)])

# %% [markdown]
# ## The noise recipe
#
# The paper evaluates on "MNIST with noise" but does not publish how the noise was made, so the project defines its
# own, seeded recipe of **background** noise: spurious signal *around* the digit, applied alike to train and test,
# normal and anomalous images. These are its settings at strength 1 (see the docstring of
# `adda_keras.data.noise` for how they were calibrated):

# %%
# NBVAL_CHECK_OUTPUT
print(NOISE_KINDS)
print(BackgroundNoise())

# %% [markdown]
# Three kinds of elements, combined by a pixel-wise maximum: straight **strokes**, Gaussian **blobs** and salt
# **pixels**. Each row below adds one kind (or all) to the same five digits, with the same seed.

# %%
digits = mnist.images[first[:5]]
rows = [("clean", digits)]
for kinds in [("strokes",), ("blobs",), ("pixels",), NOISE_KINDS]:
    noisy = add_background_noise(digits, BackgroundNoise(kinds=kinds), seed=0)
    rows.append((" + ".join(kinds) if len(kinds) < 3 else "all (the default)", noisy))
fig = show_images(
    np.concatenate([images for _, images in rows]), ncols=5, row_labels=[label for label, _ in rows], size=1.2
)

# %% [markdown]
# `strength` scales the number of elements, the salt rate and (up to 1) their brightness; 0 switches the noise off.
# The tutorials and the paper's tables use strength 1.

# %%
strengths = (0.0, 0.25, 0.5, 1.0, 2.0)
noisy = [add_background_noise(digits[:3], BackgroundNoise(strength=s), seed=1) for s in strengths]
fig = show_images(
    np.stack(noisy, axis=1).reshape(-1, 28, 28, 1),
    ncols=len(strengths),
    titles=[f"strength {s:g}" for s in strengths] + [""] * 2 * len(strengths),
    size=1.2,
)

# %% [markdown]
# ## The digit is never touched
#
# The noise is cut away from the *digit support*, the pixels brighter than `support_threshold`. A pixel-wise model is
# distracted by the noise, but a model that looks at the digit can ignore it: that is the situation the paper's
# attention is built for. Two checks, and the support of a few digits:

# %%
# NBVAL_CHECK_OUTPUT
support = digit_support(digits)
noisy = add_background_noise(digits, BackgroundNoise(), seed=0)
print("digit pixels unchanged:", bool(np.array_equal(noisy[support], digits[support])))
print("same seed, same noise: ", bool(np.array_equal(noisy, add_background_noise(digits, BackgroundNoise(), seed=0))))
print("other seed, other noise:", not np.array_equal(noisy, add_background_noise(digits, BackgroundNoise(), seed=1)))

# %%
fig = show_images(
    np.concatenate([digits, support.astype(np.float32), noisy]),
    ncols=5,
    row_labels=["image", "support", "noisy"],
    size=1.2,
)

# %% [markdown]
# ## The one-class split
#
# One digit is normal. Its images are shuffled with the seed and divided into **train** (60%), **validation** (10%)
# and **test** (30%); every image of the nine other digits goes to the test set as an anomaly (here a seeded subsample
# of each, `max_test_anomalies_per_class`, to keep the tutorials quick). Train and validation hold normal images only,
# so thresholds and calibrations are fitted on validation, never on test.

# %%
split = one_class_split(mnist.images, mnist.labels, normal_class=0, seed=0, max_test_anomalies_per_class=pick(100, 10))
print(split.summary())

# %%
fig, ax = plt.subplots(figsize=(7, 2.6))
parts = {"train": len(split.x_train), "val": len(split.x_val)}
parts |= {f"test {d}": int((split.test_classes == d).sum()) for d in range(10)}
colours = ["C0", "C0"] + ["C0" if d == split.normal_class else "C3" for d in range(10)]
ax.bar(list(parts), list(parts.values()), color=colours)
ax.tick_params(axis="x", labelrotation=45)
ax.set_ylabel("images")
_ = ax.set_title("Normal (blue) and anomalous (red) images per part")

# %% [markdown]
# `apply_noise` turns the split into "MNIST with noise". Each part gets noise from its own seed (derived from the one
# given), so no two parts share a noise pattern; the order of the images does not change.

# %%
noisy_split = apply_noise(split, BackgroundNoise(strength=1.0), seed=0)
rng = np.random.default_rng(0)
anomalies = rng.choice(np.flatnonzero(noisy_split.y_test == 1), 4, replace=False)
examples = np.concatenate([noisy_split.x_train[:4], noisy_split.x_val[:4], noisy_split.x_test[anomalies]])
titles = ["train"] * 4 + ["val"] * 4 + [f"test: {noisy_split.test_classes[i]}" for i in anomalies]
fig = show_images(examples, titles=titles, ncols=6)

# %% [markdown]
# ## The semi-supervised split
#
# In the paper's semi-supervised setting a few images of **one** anomaly mode are known at training time (normal digit
# 0, known anomaly 1, 3, 5, 7 or 9). `semi_supervised_split` draws `n_known` of them for training (`x_known`) and a
# few more for validation (`x_val_known`), and **removes them from the pool**: the test set still holds every anomaly
# digit, including the *other* images of the known one, but never an image a model has seen. The normal parts equal
# those of `one_class_split` with the same seed.

# %%
semi = semi_supervised_split(
    mnist.images,
    mnist.labels,
    normal_class=0,
    known_anomaly_class=7,
    n_known=pick(100, 20),
    seed=0,
    max_test_anomalies_per_class=pick(100, 10),
)
print(semi.summary())
fig = show_images(semi.x_known[:8], titles=["known 7"] * 8)

# %% [markdown]
# The check: no known image (training or validation) appears in the test set, compared by content, and the normal
# images are those of the one-class split.

# %%
# NBVAL_CHECK_OUTPUT
test_set = {hashlib.sha1(image.tobytes()).hexdigest() for image in semi.x_test}
for name in ("x_known", "x_val_known"):
    leaked = sum(hashlib.sha1(image.tobytes()).hexdigest() in test_set for image in getattr(semi, name))
    print(f"images of {name} found in the test set: {leaked}")
print("known digit still among the test anomalies:", bool((semi.test_classes == 7).any()))
same = all(np.array_equal(getattr(semi, p), getattr(split, p)) for p in ("x_train", "x_val"))
print("normal train / val images as in one_class_split:", same)

# %% [markdown]
# ## Your own images: a folder per class
#
# The paper's other data sets (hand gestures, pigeons, Venus) are not redistributable. Any data set enters the library
# as a folder of normal images and, optionally, a folder of anomalies: `load_folder_dataset` reads them (PNG, JPEG,
# BMP, GIF, TIFF; resized bilinearly to `image_size`, `"grayscale"` or `"rgb"`) and labels them 0 and 1, ready for the
# same splits. Images of the anomaly folder are only ever test images (unless a semi-supervised split draws some as
# known anomalies). Here we write a tiny folder to a temporary directory and read it back.

# %%
folder = Path(tempfile.mkdtemp(prefix="adda_keras_folder_"))
for subfolder, digit, count in (("normal", 3, 30), ("anomaly", 8, 10)):
    (folder / subfolder).mkdir()
    for k, index in enumerate(np.flatnonzero(mnist.labels == digit)[:count]):
        pixels = (mnist.images[index, ..., 0] * 255).astype(np.uint8)
        Image.fromarray(pixels).resize((56, 56)).save(folder / subfolder / f"{digit}_{k:03d}.png")
print(sorted(p.name for p in (folder / "normal").iterdir())[:3], "...")

images, labels = load_folder_dataset(folder / "normal", folder / "anomaly", image_size=(28, 28))
print(images.shape, images.dtype, f"[{images.min():.1f}, {images.max():.1f}]", "labels:", np.bincount(labels))
folder_split = one_class_split(images, labels, normal_class=0, seed=0)
print(folder_split.summary())

# %% [markdown]
# Bad input fails early with a message that says what is wrong, for example an empty folder:

# %%
(folder / "empty").mkdir()
try:
    load_folder_dataset(folder / "empty")
except ValueError as error:
    print("ValueError:", str(error).replace(str(folder), "<tmp>"))

# %% [markdown]
# ## Exercises
#
# 1. How much of an image does the background noise cover at strength 0.5, 1 and 2? Count the pixels that the noise
#    changes by more than 0.1, as notebook 02 does.
# 2. Check the one-class split's promise yourself: no anomaly in the training or validation images, and no training
#    image in the test set.
#
# Each solution is in the collapsed cell below its number: click it to open it.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution 1: the noise is drawn around the digit, so its area grows with the strength.
for strength in (0.5, 1.0, 2.0):
    changed = np.abs(add_background_noise(digits, BackgroundNoise(strength=strength), seed=0) - digits) > 0.1
    print(f"strength {strength}: the noise changes {changed.mean():.0%} of the pixels")

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution 2: look every image up in MNIST to find its label; training images must not reappear in the test set.
label_of = {image.tobytes(): label for image, label in zip(mnist.images, mnist.labels, strict=True)}
assert all(label_of[image.tobytes()] == split.normal_class for image in [*split.x_train, *split.x_val])
print("training and validation images: all of the normal digit")
train_keys = {image.tobytes() for image in split.x_train}
print("training images in the test set:", sum(image.tobytes() in train_keys for image in split.x_test))
