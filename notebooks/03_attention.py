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
# # 03 · Attention: where the discriminator looks
#
# A VAEGAN's discriminator learns to tell real normal images from reconstructions and samples; its class activation
# map (CAM) shows which pixels that decision rests on, and ADA uses it to weight the residual.
#
# <!-- colab-badge -->
# **On Colab** (the project has no public repository yet, so there is no Colab link): upload this notebook and the
# wheel that `make dist` builds (`dist/adda_keras-*.whl`); the first code cell installs the wheel.
# <!-- /colab-badge -->
#
# **What you will learn**
#
# - what CAM and Grad-CAM compute, and how to get them: `detector.explain(images)` and
#   `adda_keras.attention.attention_maps(discriminator, images, method)`;
# - how the attention `c = CAM(x) + CAM(x̂)` of a trained VAEGAN looks on normal, anomalous, clean and noisy images;
# - how much of the attention falls on background noise;
# - how the attention forms during training, recorded by a Keras callback (`AttentionHistory`).
#
# <!-- run-time -->
# **Run time:** 7.8 min on a 2-core CPU in default mode (the run whose outputs are stored here, timed from its cells);
# on a GPU: not measured. **Last run:** 2026-11-29.
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
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from adda_keras import make_detector
from adda_keras.attention import attention_maps
from adda_keras.data import BackgroundNoise, apply_noise, digit_support, load_mnist, one_class_split
from adda_keras.diagnostics import attention_share, reconstruction_variety
from adda_keras.tutorial import FAST, AttentionHistory, pick, show_images

plt.rcParams["figure.dpi"] = 80
EPOCHS = pick(30, 2)
print("fast mode" if FAST else "default mode", "| epochs:", EPOCHS)

# %% [markdown]
# ## Data and the images we follow
#
# Noisy MNIST with digit 0 normal (notebook 01). We follow six test images through the notebook: a normal zero and an
# anomaly (a seven), each clean and noisy, and one more noisy normal and noisy anomaly.

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
n_train = pick(len(noisy.x_train), 128)

normal = np.flatnonzero(noisy.test_classes == 0)[:2]
seven, four = np.flatnonzero(noisy.test_classes == 7)[0], np.flatnonzero(noisy.test_classes == 4)[0]
followed = np.stack(
    [
        clean.x_test[normal[0]],
        noisy.x_test[normal[0]],
        noisy.x_test[normal[1]],
        clean.x_test[seven],
        noisy.x_test[seven],
        noisy.x_test[four],
    ]
)
names = ["normal, clean", "normal, noisy", "normal, noisy", "7, clean", "7, noisy", "4, noisy"]
fig = show_images(followed, titles=names, size=1.5)

# %% [markdown]
# ## Train a VAEGAN and record its attention
#
# `AttentionHistory` (in `adda_keras.tutorial`) is a small Keras callback: at the start of training and after every
# `every`-th epoch it computes the discriminator's attention maps of the images it was given, with the library's
# `attention_maps`. Any Keras callback can be passed to a detector's `fit`.

# %%
history = AttentionHistory(followed, every=pick(5, 1))
ada = make_detector("ada", epochs=EPOCHS, seed=0)
ada.fit(noisy.x_train[:n_train], x_val=noisy.x_val, callbacks=[history])
print("recorded after epochs", history.epochs)

# %%
fig, ax = plt.subplots(figsize=(6, 3))
for key in ("d_real", "val_d_real"):
    ax.plot(range(1, EPOCHS + 1), ada.history_[key], label=key)
ax.set(xlabel="epoch", ylabel="mean D(x) on normal images", ylim=(0, 1))
ax.legend()
_ = ax.set_title("The discriminator's belief that normal images are normal")

# %% [markdown]
# ## CAM: the discriminator's evidence, pixel by pixel
#
# The discriminator ends in a global-average-pool over its last feature maps `A_k` and one dense unit with weights
# `w_k`. Its **class activation map** is `Σ_k w_k A_k`: the contribution of each location to the "normal" logit,
# positive where the location speaks for "real normal", negative where it speaks against. The library resizes it to
# the image, takes its magnitude (`normalisation="absmax"`, the default; `"max"` keeps only the positive evidence)
# and scales it to a maximum of 1 per image; the score then adds a floor of 0.5 everywhere (`attention_floor`).
#
# `ada.explain(images)` returns every intermediate of the ADA score: the reconstruction `x̂`, `CAM(x)`, `CAM(x̂)`, their
# sum `c` (the attention), `D(x)` and the weighted residual.

# %%
parts = ada.explain(followed)
print("D(x):", np.round(parts["normal_probability"], 2))
rows = {
    "input x": (followed, None),
    "reconstruction x̂": (parts["reconstruction"], None),
    "CAM(x)": (followed, parts["attention_input"]),
    "CAM(x̂)": (parts["reconstruction"], parts["attention_reconstruction"]),
    "c = CAM(x) + CAM(x̂)": (followed, parts["attention"]),
}
fig, axes = plt.subplots(len(rows), len(followed), figsize=(1.5 * len(followed), 1.5 * len(rows)))
for r, (label, (pictures, overlay)) in enumerate(rows.items()):
    for k in range(len(followed)):
        ax = axes[r, k]
        ax.imshow(pictures[k, ..., 0], cmap="gray", vmin=0, vmax=1)
        if overlay is not None:
            ax.imshow(overlay[k], cmap="jet", alpha=0.45, vmin=0, vmax=max(float(overlay[k].max()), 1e-6))
        ax.set_xticks([])
        ax.set_yticks([])
        if r == 0:
            ax.set_title(names[k], fontsize="small")
        if k == 0:
            ax.set_ylabel(label, fontsize="small")
fig.tight_layout()

# %% [markdown]
# What the figure shows. The reconstructions follow their inputs: each zero comes back as a zero of its own shape and
# slant, without the noise, and the anomalies come back as blurred shapes that are neither the input nor a clean zero,
# which is what makes their residual large. The library's attention keeps the discriminator's evidence of *both*
# signs (`normalisation="absmax"`, chosen on validation data; the method page explains why), so `c` is not a mask of
# the digit: CAM(x) is strong on the digit's strokes, but also on background noise and, for the clean images it never
# saw in training, on their empty background, which to this discriminator is evidence of "not real". CAM(x̂) is
# strongest on the smooth background of the reconstruction, the part that gives it away as generated. And `D(x)` alone
# is an unreliable verdict: here the noisy 4 gets a higher `D(x)` than the noisy zeros, and the clean zero a low one
# (notebook 04 measures this as the "D only" ablation).

# %%
print("peak of CAM(x): ", np.round(parts["attention_input"].max(axis=(1, 2)), 2))
print("peak of CAM(x̂):", np.round(parts["attention_reconstruction"].max(axis=(1, 2)), 2))

# %% [markdown]
# ## CAM, written out
#
# The library computes these maps in `adda_keras.attention`; here is the same computation in a dozen lines of NumPy,
# in the spirit of keras-io's `grad_cam.py`, and a check that it gives the library's numbers. The discriminator returns
# its logit and its last feature maps `A` (the output of the layer `attention_features`, shape `(N, h, w, K)`); its
# head is a global average pool followed by one dense unit with kernel `w` (shape `(K, 1)`) and bias `b`. So
#
# `logit(x) = mean over locations of Σ_k w_k A_k(location) + b`,
#
# and the CAM `Σ_k w_k A_k` is exactly how much each location adds to the logit: the first check below. Then the map
# is resized to the image (bilinear), its magnitude taken (evidence of both signs, `normalisation="absmax"`) and
# scaled to a maximum of 1 per image. The attention `c` of the score adds the maps of `x` and `x̂` and the floor.

# %%
discriminator = ada.model_.discriminator
head = discriminator.get_layer("head")  # GlobalAveragePooling2D -> Dense(1)
w, b = head.kernel.numpy()[:, 0], head.bias.numpy()[0]


def cam(images):
    """CAM of `discriminator` on `images`: (N, H, W), the magnitude of Σ_k w_k A_k, scaled to a maximum of 1."""
    logit, features = discriminator(images, training=False)  # features A: (N, h, w, K)
    raw = np.einsum("nhwk,k->nhw", features.numpy(), w)  # Σ_k w_k A_k: each location's share of the logit
    np.testing.assert_allclose(raw.mean(axis=(1, 2)) + b, logit.numpy()[:, 0], rtol=1e-4, atol=1e-4)
    resized = tf.image.resize(raw[..., None], images.shape[1:3], method="bilinear").numpy()[..., 0]
    magnitude = np.abs(resized)  # evidence for "normal" and against it
    return magnitude / np.maximum(magnitude.max(axis=(1, 2), keepdims=True), 1e-8)


cam_x, cam_x_hat = cam(followed), cam(parts["reconstruction"])
c = cam_x + cam_x_hat + ada.attention_floor  # the attention of the ADA score
np.testing.assert_allclose(cam_x, parts["attention_input"], atol=1e-5)
np.testing.assert_allclose(cam_x_hat, parts["attention_reconstruction"], atol=1e-5)
np.testing.assert_allclose(c, parts["attention"], atol=1e-5)
print("CAM written out == the library's attention: True")

# %% [markdown]
# ## How much attention falls on the noise?
#
# Over all test images: the share of the weight `c²` (the weighted residual of notebook 04 weights each pixel by `c²`)
# that lies on the (visible) noise pixels and on the digit's pixels, next to the share of the image each covers.
# Attention blind to the content would spread like the area; a larger share than area means the discriminator prefers
# those pixels. `adda_keras.diagnostics.attention_share` is the ratio of the two for the digit (1 = indifferent), and
# `reconstruction_variety` says whether the reconstructions follow their inputs (near 0 would mean one template for
# every image, the "posterior collapse" of an earlier version of this library).

# %%
test_parts = ada.explain(noisy.x_test)
attention = test_parts["attention"]
noise_mask = (noisy.x_test - clean.x_test)[..., 0] > 0.1  # visible noise (not the blobs' faint tails)
digit_mask = digit_support(clean.x_test, threshold=0.5)[..., 0]
on_noise = (attention**2 * noise_mask).sum(axis=(1, 2)) / (attention**2).sum(axis=(1, 2))
on_digit = (attention**2 * digit_mask).sum(axis=(1, 2)) / (attention**2).sum(axis=(1, 2))
print(f"noise pixels: {noise_mask.mean():5.1%} of the image, {on_noise.mean():5.1%} of the weight c²")
print(f"digit pixels: {digit_mask.mean():5.1%} of the image, {on_digit.mean():5.1%} of the weight c²")
share = attention_share(attention, digit_mask)
print(f"attention share on the digit (c² share / area share; 1 = indifferent): {np.nanmean(share):.2f}")
print(
    f"reconstruction variety (0 = one template for every image): "
    f"{reconstruction_variety(noisy.x_test, test_parts['reconstruction']):.2f}"
)

# %% [markdown]
# What the numbers show. The reconstructions follow their inputs (a variety near 0.2, not 0: they drop the noise, which
# is most of the inputs' spread, but keep each digit's own shape). The score's weight `c²`, however, is spread almost
# like the area: the digit gets about its area share (a ratio near 1) and the noise about its own. That is not the
# picture the paper draws, attention sitting on the object. Two things make it so: the attention keeps evidence of both
# signs, and much of the *negative* evidence sits in the background (previous figure); and the floor of 0.5 gives every
# pixel weight. The positive evidence alone does sit on the digit (the next figure uses it), and with it the ratio is
# about 2 on held-out validation data (`results/attention_tuning.md`). Both weightings were compared there, on
# validation data, by the AUROC of the whole score, and the one used here scored higher: where the discriminator looks
# and what makes a good score are not the same question.

# %% [markdown]
# ## CAM and Grad-CAM
#
# Grad-CAM weights the feature maps of any convolutional layer by the spatial mean of the gradient of the logit. On the
# layer that feeds the pooling head it is CAM up to a positive factor, so after the per-image normalisation the two
# coincide. On an earlier layer (`dis0_act`, the first convolution's 14×14 maps) it gives a noisier map of lower-level
# features. These maps keep the positive evidence only (`attention_maps`' default `normalisation="max"`): it sits on
# the digit's region, strokes and noise crossing it included. `attention_maps`
# computes all of them from any discriminator built by the library; here the trained one, `ada.model_.discriminator`.

# %%
discriminator = ada.model_.discriminator
cam = np.asarray(attention_maps(discriminator, followed, "cam"))
grad_cam = np.asarray(attention_maps(discriminator, followed, "grad-cam"))
grad_cam_early = np.asarray(attention_maps(discriminator, followed, "grad-cam", layer="dis0_act"))
fig = show_images(
    np.concatenate([followed] * 3),
    overlays=np.concatenate([cam, grad_cam, grad_cam_early]),
    ncols=len(followed),
    titles=names + [""] * 2 * len(followed),
    row_labels=["CAM", "Grad-CAM", "Grad-CAM dis0_act"],
    size=1.5,
)

# %%
# NBVAL_CHECK_OUTPUT
print("Grad-CAM on the last feature maps equals CAM:", bool(np.allclose(cam, grad_cam, atol=1e-4)))

# %% [markdown]
# ## How the attention forms during training
#
# The maps that `AttentionHistory` recorded, one row per epoch (positive evidence, `normalisation="max"`). Before
# training (epoch 0) the random discriminator's attention is arbitrary; within a few epochs its positive evidence
# settles on the digit's region, for the normal zeros and for the anomalies alike, and stays there. The spectral
# normalisation of the discriminator is what keeps it there: without it (an earlier version of this library) the
# discriminator became certain that every reconstruction is fake, and its attention drifted to whatever cue separated
# them, such as the noise that reconstructions lack (`results/attention_tuning.md`).
#
# **Spectral normalisation** (Miyato et al. 2018; `keras.layers.SpectralNormalization`, which the library wraps
# around the discriminator's convolutions) divides a layer's weight matrix by its largest singular value, its
# *spectral norm*, estimated by one step of power iteration at every training step. A layer normalised so can stretch
# no input difference by more than a factor of 1, so the discriminator's logit can only change gradually from image
# to image: it cannot become arbitrarily certain from a small cue (a speck of noise that only real images carry), its
# verdicts on reals and fakes stay in balance (its D(x̂) stays near 0.2 instead of near 0), and its gradients stay
# useful to the generator. The dense head stays plain, so that CAM can read its kernel.

# %%
maps = history.stack()  # (epochs recorded, images, H, W)
fig = show_images(
    np.concatenate([followed] * len(history.epochs)),
    overlays=maps.reshape(-1, *maps.shape[2:]),
    ncols=len(followed),
    titles=names + [""] * (maps.shape[0] - 1) * len(followed),
    row_labels=[f"epoch {e}" for e in history.epochs],
    size=1.3,
)

# %% [markdown]
# ## Takeaway
#
# The discriminator's *positive* evidence sits on the digit's region, from the first epochs on (the last figure). The
# attention that the ADA score uses, though, does not concentrate on the digit: it keeps evidence of both signs and
# adds a floor, and its weight `c²` falls on the digit about in proportion to the digit's area (the share printed
# above is 1.07, where 1 means indifferent), on the noise in proportion to the noise's. So ADA does not win by masking
# the background; what the attention changes is *which* pixels of the residual count more, image by image, and that
# setting was chosen because it scored best on validation data. Notebook 04 turns this into the ADA score and
# measures what it buys.

# %% [markdown]
# ## Exercises
#
# 1. Change `cam` above to keep only the *positive* evidence (ReLU instead of the magnitude) and check your version
#    against `attention_maps(discriminator, followed, "cam")`, whose default normalisation is `"max"`.
# 2. Where does the discriminator's evidence argue *against* "normal"? For each followed image, compute the share of
#    the CAM's locations (before resizing) whose contribution to the logit is negative. Which images have the most?
#
# Each solution is in the collapsed cell below its number: click it to open it.


# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution 1: np.maximum(resized, 0) in place of np.abs(resized); the rest is unchanged.
def cam_positive(images):
    _, features = discriminator(images, training=False)
    raw = np.einsum("nhwk,k->nhw", features.numpy(), w)
    resized = tf.image.resize(raw[..., None], images.shape[1:3], method="bilinear").numpy()[..., 0]
    positive = np.maximum(resized, 0)
    return positive / np.maximum(positive.max(axis=(1, 2), keepdims=True), 1e-8)


np.testing.assert_allclose(cam_positive(followed), attention_maps(discriminator, followed, "cam"), atol=1e-5)
print("positive-evidence CAM == attention_maps(..., 'cam'): True")

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution 2: the raw CAM's sign says which way each location pushes the logit.
_, features = discriminator(followed, training=False)
raw = np.einsum("nhwk,k->nhw", features.numpy(), w)
for name, share in zip(names, (raw < 0).mean(axis=(1, 2)), strict=True):
    print(f"{name:<14} {share:.0%} of the locations argue against 'normal'")
