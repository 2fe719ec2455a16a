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
# # 09 · Real images: natural clutter and real textures
#
# <!-- colab-badge -->
# **On Colab** (the project has no public repository yet, so there is no Colab link): upload this notebook and the
# wheel that `make dist` builds (`dist/adda_keras-*.whl`); the first code cell installs the wheel.
# <!-- /colab-badge -->
#
# Synthetic background noise is the benchmark ADA was tuned on. Here the background is *real*: digits over crops of
# photographs, and real texture photographs with realistic defects. Nothing is downloaded: the photographs ship with
# scikit-image and scikit-learn.
#
# **What you will learn**
#
# - how the two real-image benchmarks are built, and why test photographs are never seen by training or by any choice;
# - what realistic defects (scratches, smudges, stains, foreign material, missing material, discolouration) and their
#   masks look like;
# - what *self-made* anomalies look like, and how `ada-synthetic` trains the paper's second discriminator `D_ano`
#   against them instead of labelled anomalies;
# - maps beside masks on a real texture: the residual, ADA's map, `D_ano`'s own evidence and a patch-kNN;
# - what the committed quick-preset tables show: where ADA wins, and where it still fails;
# - why a threshold fitted on a few dozen validation images does not hold its false-positive rate on new images.
#
# <!-- run-time -->
# **Run time:** 3.8 min on a 2-core CPU in default mode (the run whose outputs are stored here, timed from its cells);
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
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from adda_keras import make_detector
from adda_keras.data import load_mnist, one_class_split
from adda_keras.data.inspection import (
    HELD_OUT_TEXTURE,
    INSPECTION_DEFECTS,
    INSPECTION_TEXTURES,
    add_inspection_defects,
    inspection_crops,
)
from adda_keras.data.photos import PHOTO_SPLITS, digits_on_photos, photo_crops
from adda_keras.data.synthetic import SYNTHETIC_KINDS, make_synthetic_anomalies
from adda_keras.evaluation import aupro, auroc, pixel_auroc
from adda_keras.localisation import PatchKNN
from adda_keras.tutorial import FAST, pick, results_folder, show_images

plt.rcParams["figure.dpi"] = 80
EPOCHS = pick(15, 1)  # the quick preset of the texture benchmark
started = time.perf_counter()
print("fast mode" if FAST else "default mode", "| epochs:", EPOCHS)

# %% [markdown]
# ## Digits over real photographs
#
# Each MNIST digit is drawn in white over a crop of a photograph dimmed to 60% (`digits_on_photos`), at a random
# place and scale of the photograph (`photo_crops`). The photographs are split once, in `PHOTO_SPLITS`: training
# digits lie over one group, validation digits (every choice is made on them) over a second, and test digits over a
# third group that nothing ever saw. Below, one row per group, in grayscale; the benchmark also has an RGB variant.

# %%
# NBVAL_CHECK_OUTPUT
for group, names in PHOTO_SPLITS.items():
    print(f"{group:>10}: {', '.join(names)}")

# %%
mnist = load_mnist("bundled")
split = one_class_split(mnist.images, mnist.labels, normal_class=4, seed=0, max_test_anomalies_per_class=100)
rows = []
for offset, group in enumerate(PHOTO_SPLITS):
    backgrounds = photo_crops(PHOTO_SPLITS[group], 8, 28, seed=offset, color="rgb")
    rows.append(digits_on_photos(split.x_test[:8], backgrounds))
fig = show_images(np.concatenate(rows), ncols=8, row_labels=list(PHOTO_SPLITS), size=1.1)

# %% [markdown]
# ## Real textures with realistic defects
#
# The texture benchmark cuts 64×64 crops from real texture photographs: training crops from the top half of each
# photograph, validation crops from the left of its bottom half, test crops from the right, so no test pixel was seen
# in training. `add_inspection_defects` draws six kinds of defect inside irregular regions with soft edges, and the
# mask of each (bottom row) is where the image visibly changed. The texture `moon` is held out of every choice.

# %%
textures = (*INSPECTION_TEXTURES, HELD_OUT_TEXTURE)
pictures, titles = [], []
for index, texture in enumerate(textures):
    crops = inspection_crops(texture, "test", 2 * len(INSPECTION_DEFECTS) + 4, seed=index)
    defects = add_inspection_defects(crops, seed=index)
    picks = [int(np.flatnonzero(defects.kinds == kind)[0]) for kind in ("normal", *INSPECTION_DEFECTS)]
    pictures.append(defects.images[picks, ..., 0])
    titles += [str(defects.kinds[i]) if index == 0 else "" for i in picks]
fig = show_images(np.concatenate(pictures), titles=titles, ncols=7, row_labels=list(textures), size=1.3)

# %%
brick = add_inspection_defects(inspection_crops("brick", "test", 28, seed=0), seed=0)
picks = [int(np.flatnonzero(brick.kinds == kind)[0]) for kind in INSPECTION_DEFECTS]
fig = show_images(
    np.concatenate([brick.images[picks, ..., 0], brick.masks[picks].astype(np.float32)]),
    titles=[*INSPECTION_DEFECTS, *[""] * len(picks)],
    ncols=len(picks),
    row_labels=["defect", "mask"],
)

# %% [markdown]
# ## Self-made anomalies for `D_ano`
#
# The paper's semi-supervised half trains a second discriminator, `D_ano`, to call a few *labelled* anomalies "not
# normal". `ada-synthetic` needs none: `make_synthetic_anomalies` makes anomalies from the normal training images
# alone (a moved patch, a thin scar of another image, another image blended through a smooth random mask, a blurred
# rectangle, a local swirl). Its code and parameters share nothing with the defects above: a detector must never be
# evaluated on the anomalies it was trained to reject.

# %%
train_crops = inspection_crops("brick", "train", 40, seed=0)
made, kinds = make_synthetic_anomalies(train_crops, seed=1, n=2 * len(SYNTHETIC_KINDS))
order = np.argsort(kinds, kind="stable")
fig = show_images(made[order], titles=list(kinds[order]), ncols=len(SYNTHETIC_KINDS), size=1.4)

# %% [markdown]
# ## Maps beside masks on one texture
#
# One self-supervised VAEGAN (its residual is AnoVAEGAN's map; its CAM-weighted residual ADA's) and one
# `ada-synthetic`, whose `D_ano` was trained against the self-made anomalies above, on the brick wall. `D_ano`'s own
# map is its local evidence against "normal" (`evidence_maps`: minus its class activation map). A patch-kNN on pixels
# is the classical peer.

# %%
n_train = pick(200, 32)
x_train = inspection_crops("brick", "train", n_train, seed=0)
x_val = inspection_crops("brick", "validation", pick(80, 16), seed=10)
test = add_inspection_defects(inspection_crops("brick", "test", pick(120, 28), seed=20), seed=40)
ada = make_detector("ada", epochs=EPOCHS, seed=0).fit(x_train, x_val)
# all five self-made kinds, as in the benchmark tables below (the default is now the patch-like three: see the end)
synthetic = make_detector("ada-synthetic", epochs=EPOCHS, seed=0, synthetic_kinds=SYNTHETIC_KINDS)
synthetic.fit(x_train, x_val, self_supervised=ada)
knn = PatchKNN(seed=0, max_bank=pick(20000, 2000)).fit(x_train)

maps = {
    "residual": ada.variant("anovaegan").anomaly_map(test.images),
    "ADA map": ada.anomaly_map(test.images),
    "D_ano evidence": synthetic.evidence_maps(test.images)[0],
    "patch-kNN": knn.anomaly_map(test.images),
}
for name, values in maps.items():
    print(f"{name:>15}: pixel AUROC {pixel_auroc(test.masks, values):.3f}, AUPRO {aupro(test.masks, values):.3f}")

# %%
picks = [int(np.flatnonzero(test.kinds == kind)[0]) for kind in INSPECTION_DEFECTS]
panels = [test.images[picks, ..., 0], test.masks[picks].astype(np.float32)]
panels += [values[picks] / max(float(values[picks].max()), 1e-6) for values in maps.values()]
fig = show_images(
    np.concatenate(panels),
    titles=[*INSPECTION_DEFECTS, *[""] * (len(panels) - 1) * len(picks)],
    ncols=len(picks),
    row_labels=["image", "mask", *maps],
    cmap="magma",
)

# %%
scores = {
    "AnoVAEGAN": ada.variant("anovaegan").score_samples(test.images),
    "ADA": ada.score_samples(test.images),
    "ada-synthetic": synthetic.score_samples(test.images),
    "patch-kNN (map max)": maps["patch-kNN"].max(axis=(1, 2)),
}
for name, values in scores.items():
    print(f"{name:>20}: image AUROC {auroc(test.labels, values):.3f}")

# %% [markdown]
# **What the brick wall shows.** ADA's map finds more of the defects than the plain residual under it (pixel AUROC
# 0.800 against 0.767), most of all scratches, but the classical patch-kNN on pixels is far ahead (0.978, AUPRO
# 0.927): a 64×64 VAEGAN trained on 200 crops reconstructs the wall's texture too loosely for its residual to single
# out a defect. Smudges are the hardest defect for every map built on a residual (the VAEGAN's reconstructions are
# blurry, so a blurred patch reconstructs *well*). `D_ano`'s evidence is the opposite: it finds smudges (the one
# kind it learned, from the self-made blur) and runs the wrong way on everything else. Its belief therefore hurts the
# image score: `ada-synthetic` chose the largest β on its self-made validation anomalies, which `D_ano` separates
# well, and scores 0.291 on the real defects, below chance. Self-made anomalies teach what *they* look like; here
# they did not look like these defects. The same seeds and settings as the benchmark's brick unit give the same
# numbers as its table.

# %% [markdown]
# ## The committed benchmark tables
#
# `python -m adda_keras reproduce --benchmark photo-digits --preset quick` (and `--benchmark textures`) trains, per
# digit or texture, one VAEGAN and the second discriminator of `ada-synthetic`, and writes the tables below. Every
# table also has a validation version, the only one any choice was read from.

# %%
RESULTS = results_folder() / "real_images" / "quick"  # the checkout's results/, else the one beside the notebook
for name in ("photo-digits", "textures"):
    table = RESULTS / name / "table.md"
    if table.exists():
        text = table.read_text()
        display(Markdown(text[text.index("## Image AUROC, test") : text.index("## Image AUROC, validation")]))
    else:
        print(f"results/real_images/quick/{name}/table.md is missing: keep the zip's results/ beside the notebook")

# %% [markdown]
# **Reading the tables** (the figures quoted here are in `results/real_images/quick/targets.md`, which
# `studies/summarise_real_images.py` writes from the committed units). Over real photographs, the second
# discriminator helps: `ada-synthetic` is ahead of ADA on most digits and of every other detector on the mean, chosen
# on validation photographs, but by a few hundredths, not by the margins the issue asked for. On real textures no
# variant of ADA is good: image AUROC is near 0.7 on the textures that choices may see, `ada-synthetic` falls below
# chance for the reason above, and the thresholds fitted on validation crops flag far more than 5% of the normal test
# crops, because the test crops come from another region of the photograph. For texture inspection use a patch-level
# detector; for objects in clutter, `ada-synthetic`.
#
# **Which self-made anomalies.** The tables were made with all five kinds. Compared afterwards on the *validation*
# images of four units (`studies/real_remedies.py`, `results/real_images/remedies/table.md`), the patch-like
# kinds alone (cutpaste, scar, blend) beat all five on every unit (digit 2 over photographs 0.923 against 0.878, brick
# 0.819 against 0.373): with blur among them, `D_ano` learns that blur is anomalous, and every VAEGAN reconstruction
# is a little blurred. So `ada-synthetic` now makes the patch-like kinds by default (`PATCH_KINDS`); the benchmark
# tables above have not been rerun with it. The same comparison is a warning, too: on grass plain ADA (0.934) is far
# ahead of every `ada-synthetic`, and the classical patch-kNN is the best of all on digit 2 and on brick.

# %% [markdown]
# ## Takeaway
#
# - **Objects in clutter** (digits over photographs): a second discriminator trained against self-made anomalies
#   helps a little, `ada-synthetic` is the best detector on the mean, by a few hundredths.
# - **Textures**: plain ADA is near 0.7 image AUROC and `ada-synthetic` falls below chance on four of the five
#   textures, because its `D_ano` learns its own generator, not the defects. The one exception is the held-out
#   `moon`, where `ada-synthetic` is the best of every detector in the test table above (0.866 against ADA 0.784 and
#   patch-kNN 0.753, `results/real_images/quick/textures/table.md`): one texture, chosen by no one, so it says that
#   self-made anomalies *can* match a texture's defects, not that they usually do.
# - **Thresholds** (the lesson promised at the top): a threshold fitted on validation crops for 5% false positives
#   flagged about 0.30 of the normal test crops of every texture, for every detector
#   (`results/real_images/quick/targets.md`), because the test crops come from another band of the photograph:
#   validation images must be as new to the model as the images it will score (another part, day or camera), and a
#   few dozen of them only measure a 5% rate to within a factor of two (`adda_keras.evaluation.images_for_fpr`).

# %%
print(f"this notebook ran in {time.perf_counter() - started:.0f} s ({'fast' if FAST else 'default'} mode)")

# %% [markdown]
# ## Exercises
#
# 1. Which defect kind does each map of the brick example find best, and which worst (pixel AUROC per kind)? Use
#    `maps`, `test.masks` and `test.kinds`.
# 2. Make self-made anomalies of *one* kind only (`kinds=("blur",)`) from the brick training crops, and compare how
#    much of each image they change (mean absolute change) with the evaluation defects' `"smudge"`. Why must the two
#    never be the same generator?
#
# Each solution is in the collapsed cell below its number: click it to open it.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution 1: the pixel AUROC of each map on the normal crops plus the crops of one kind.
for name, values in maps.items():
    per_kind = {}
    for kind in INSPECTION_DEFECTS:
        keep = (test.kinds == "normal") | (test.kinds == kind)
        per_kind[kind] = pixel_auroc(test.masks[keep], values[keep])
    best, worst = max(per_kind, key=per_kind.get), min(per_kind, key=per_kind.get)
    print(f"{name:>15}: best {best} ({per_kind[best]:.3f}), worst {worst} ({per_kind[worst]:.3f})")

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution 2: a detector trained to reject one generator's anomalies and then scored on the same generator measures
# how well it learned that generator, not how it finds defects it has never seen; here the two kinds also change
# the image by different amounts.
blurred, _ = make_synthetic_anomalies(train_crops, seed=2, kinds=("blur",))
smudges = test.kinds == "smudge"
clean = inspection_crops("brick", "test", len(test.kinds), seed=20)
print(f"self-made blur: mean change {np.abs(blurred - train_crops).mean():.4f} per pixel")
print(f"smudge defects: mean change {np.abs(test.images[smudges] - clean[smudges]).mean():.4f} per pixel")
