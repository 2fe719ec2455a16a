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
# # 08 · Localisation: where is the anomaly?
#
# <!-- colab-badge -->
# **On Colab** (the project has no public repository yet, so there is no Colab link): upload this notebook and the
# wheel that `make dist` builds (`dist/adda_keras-*.whl`); the first code cell installs the wheel.
# <!-- /colab-badge -->
#
# The paper scores whole images, but ADA's attention is a *map*. Does the map point at the defect? Here normal digits
# get defects whose pixels are known, and every map is scored against those masks, pixel by pixel.
#
# **What you will learn**
#
# - how to make test images with ground-truth defect masks (`adda_keras.data.defects`);
# - the two pixel metrics of MVTec AD: pixel AUROC and AUPRO (`adda_keras.evaluation`), on a 2×3 example;
# - where each map looks: ADA's attention-weighted residual, the plain residual, the attention alone, Grad-CAM, and a
#   classical patch-kNN on pixels;
# - on which defect each map fails, above all the paper's limitation (a defect in the background), and what
#   `attention_floor`, chosen on validation defects, recovers;
# - how to read the quick-preset tables of `python -m adda_keras localise`.
#
# <!-- run-time -->
# **Run time:** 4.6 min on a 2-core CPU in default mode (the run whose outputs are stored here, timed from its cells);
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
import logging
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from adda_keras import make_detector
from adda_keras.data import BackgroundNoise, apply_noise, load_mnist, one_class_split
from adda_keras.data.defects import DIGIT_DEFECTS, add_digit_defects
from adda_keras.evaluation import aupro, pixel_auroc, pro_curve
from adda_keras.experiments.localise import FLOOR_GRID, LABELS, MAP_METHODS, OWN_IMAGE_SCORE
from adda_keras.localisation import PatchKNN, evaluate_maps, vaegan_maps
from adda_keras.tutorial import FAST, pick, results_folder, show_images

plt.rcParams["figure.dpi"] = 80
logging.getLogger("tensorflow").setLevel(logging.ERROR)  # no retracing warnings: each floor compiles its own pass
EPOCHS = pick(20, 1)
print("fast mode" if FAST else "default mode", "| epochs:", EPOCHS)

# %% [markdown]
# ## Defects with masks
#
# `add_digit_defects` splits normal images into equal groups: one stays normal, each other group gets one kind of
# defect: an extra **stroke** across the digit, an **erase**d segment, a **blob** on the digit, and a small foreign
# digit in the **background**, away from the digit (the paper's stated limitation). The mask holds the pixels that the
# defect covers *and* visibly changed, so a stroke drawn over bright digit pixels is not asked to be found there.
# Defects go onto the noisy images; the clean images locate the digit.

# %%
mnist = load_mnist("bundled")
clean = one_class_split(mnist.images, mnist.labels, normal_class=0, seed=0, max_test_anomalies_per_class=100)
split = apply_noise(clean, BackgroundNoise(strength=1.0), seed=0)
foreign = clean.x_test[clean.y_test == 1]  # other digits, shrunk into the background
normal = clean.y_test == 0
n_eval = pick(None, 40)
test = add_digit_defects(
    split.x_test[normal][:n_eval], foreign[1::2], seed=1000, clean_images=clean.x_test[normal][:n_eval]
)
val = add_digit_defects(split.x_val[:n_eval], foreign[0::2], seed=2000, clean_images=clean.x_val[:n_eval])
print({kind: int((test.kinds == kind).sum()) for kind in ("normal", *DIGIT_DEFECTS)}, "test images")

examples = [int(np.flatnonzero(test.kinds == kind)[0]) for kind in DIGIT_DEFECTS]
fig = show_images(
    np.concatenate([test.images[examples, ..., 0], test.masks[examples]]),
    titles=[*DIGIT_DEFECTS, *[""] * len(examples)],
    ncols=len(examples),
    row_labels=["image", "mask"],
    size=1.6,
)

# %% [markdown]
# ## Pixel AUROC and AUPRO on a 2×3 example
#
# Image A has two defect regions (one pixel at the top left; two pixels on the right); image B has none. The
# **pixel AUROC** pools every pixel of every image. The **AUPRO** (MVTec AD) follows, threshold by threshold, the
# share of *each* defect region that is found (the per-region overlap, PRO, averaged over regions so a small defect
# counts as much as a large one) against the false-positive rate on normal pixels, and integrates it up to a
# false-positive rate of 0.3, divided by 0.3.

# %%
# NBVAL_CHECK_OUTPUT
masks = np.array([[[1, 0, 1], [0, 0, 1]], [[0, 0, 0], [0, 0, 0]]], dtype=bool)
maps = np.array([[[0.9, 0.5, 0.8], [0.1, 0.2, 0.3]], [[0.4, 0.0, 0.0], [0.0, 0.6, 0.0]]])
fpr, pro = pro_curve(masks, maps)
print("FPR:", np.round(fpr[:7], 3))
print("PRO:", np.round(pro[:7], 3))
print(f"pixel AUROC {pixel_auroc(masks, maps):.3f}, AUPRO {aupro(masks, maps):.3f}")

# %% [markdown]
# At thresholds 0.9 and 0.8 the whole small region and half the large one are found before any normal pixel (PRO
# 0.75 at FPR 0); the rest of the large region (0.3) comes only after three normal pixels, at FPR 1/3, beyond the
# limit. So AUPRO = 0.75.
#
# ## One VAEGAN, five maps, and the peer to beat
#
# One `ada` detector (the library's defaults) is trained on noisy normal zeros. Its maps come from its own passes
# (`vaegan_maps`): ADA's attention-weighted residual `c²(x − x̂)² / mean(c²)`, the plain residual `(x − x̂)²` of the
# same VAEGAN, the attention `c` alone, and Grad-CAM of the discriminator's evidence *against* "real normal". The
# classical peer, `PatchKNN`, describes each pixel by its 5×5 patch and measures the distance to the nearest patch of
# the normal training images within 2 pixels of the same place.
#
# `attention_floor` is chosen here as the `localise` command chooses it: by AUPRO on the *validation* defects (made
# from validation normals with another seed); the test images choose nothing.

# %%
n_train = pick(len(split.x_train), 128)
ada = make_detector("ada", epochs=EPOCHS, seed=0).fit(split.x_train[:n_train], x_val=split.x_val)
knn = PatchKNN(patch_size=5, radius=2).fit(split.x_train[:n_train])

val_maps = vaegan_maps(ada, val.images, FLOOR_GRID, x_reference=split.x_val)
floor_aupro = {floor: round(float(aupro(val.masks, val_maps[f"ada-floor={floor:g}"][0])), 3) for floor in FLOOR_GRID}
floor = max(floor_aupro, key=floor_aupro.get)
print("validation AUPRO per floor:", floor_aupro, "-> floor", floor)

test_maps = vaegan_maps(ada, test.images, [floor], x_reference=split.x_val)
test_maps["ada-floor"] = test_maps.pop(f"ada-floor={floor:g}")
test_maps["patch-knn"] = (knn.anomaly_map(test.images), None)

# %% [markdown]
# ## Where each map looks
#
# One test image per defect kind (rows), every map beside it (columns), the mask's outline in cyan. Each map is
# scaled to its own maximum.

# %%
fig, axes = plt.subplots(len(examples), 2 + len(MAP_METHODS), figsize=(12, 1.6 * len(examples)), squeeze=False)
for row, index in enumerate(examples):
    panels = [("image", test.images[index, ..., 0]), ("mask", test.masks[index])]
    panels += [(LABELS[m], test_maps[m][0][index]) for m in MAP_METHODS]
    for col, (title, picture) in enumerate(panels):
        ax = axes[row, col]
        ax.imshow(picture, cmap="gray" if col < 2 else "magma")
        if col >= 2:
            ax.contour(test.masks[index], levels=[0.5], colors="cyan", linewidths=0.7)
        ax.set_xticks([])
        ax.set_yticks([])
        if row == 0:
            ax.set_title(textwrap.fill(title, 16), fontsize=7)  # long method names on two or three lines
    axes[row, 0].set_ylabel(DIGIT_DEFECTS[row], fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## The numbers, per defect kind
#
# `evaluate_maps` gives the image AUROC (ADA's own score with β·D for the ADA maps, the mean residual for the
# residual, the map's maximum for the others), the pixel AUROC and the AUPRO, over the normal images plus those with
# one kind of defect, and over all of them.

# %%
lines = ["| map | " + " | ".join(f"{k}" for k in (*DIGIT_DEFECTS, "all")) + " |", "|---|" + "---|" * 5]
results = {}
for method in MAP_METHODS:
    maps_, scores = test_maps[method]
    own = scores if method in OWN_IMAGE_SCORE else None
    results[method] = evaluate_maps(test, maps_, own, DIGIT_DEFECTS)
    cells = [
        f"{results[method][k]['aupro']:.2f} / {results[method][k]['pixel_auroc']:.2f}" for k in (*DIGIT_DEFECTS, "all")
    ]
    lines.append(f"| {LABELS[method]} | " + " | ".join(cells) + " |")
display(Markdown("AUPRO / pixel AUROC on this notebook's test defects (noisy zeros):\n\n" + "\n".join(lines)))

# %% [markdown]
# ## Reading the maps
#
# - **The attention alone** marks where the discriminator looks (the digit and, with the library's |CAM| attention,
#   whatever it finds unusual), not what is wrong; as a defect map it is weak (AUPRO 0.24 over all defects above).
# - **Grad-CAM of the not-normal evidence** is Grad-CAM (notebook 03) of the *negated* logit: the discriminator's last
#   feature maps weighted by how much each one pushes its verdict towards "not a real normal image", rectified, so it
#   marks the places whose features argue against "normal". It is coarse (the feature maps are 14×14) and lights up
#   image corners and background rather than the defect: AUPRO 0.08 or 0.09 on every kind here, the weakest map.
# - **ADA's map** multiplies the residual by `c² / mean(c²)`: it keeps the residual where the attention is high and
#   lowers it elsewhere. In this run it is level with the plain residual on strokes and erased segments (0.38 against
#   0.40, 0.62 against 0.62), and *ahead* of it on the background defects (0.64 against 0.56): on noisy digits the
#   attention of both signs does not mask the background (notebook 03), so the paper's limitation does not show
#   here. The quick-preset tables below agree (background AUPRO 0.576 for ADA, 0.492 for the residual, with noise);
#   it shows on *clean* digits (0.923 against 0.946), where every lowered pixel is a loss.
# - **The attention floor** adds a constant to `c`, so every pixel keeps some weight; validation picks how much (the
#   validation AUPRO barely changes with it here, from 0.407 to 0.41). A large floor turns ADA's map back into the plain
#   residual; on clean digits the floor recovers most of the background gap (0.946 in the preset's table).
# - **Patch-kNN** knows, for every position, which patches normal zeros have there; it is the best map for a foreign
#   digit in the background (0.68, ahead of ADA's 0.64), but not for extra strokes (0.32, below ADA's 0.38 and the
#   residual's 0.40) or erased segments (0.44 against 0.62). On the textures of the preset it is the best map for
#   every defect kind. It is the bar to clear.
#
# ## The quick-preset tables
#
# `python -m adda_keras localise --benchmark digits --preset quick` runs the same comparison on three normal digits,
# with and without background noise, choosing the floor, the patch-kNN neighbourhood and each map's smoothing on
# validation defects; `--benchmark textures` does it on crops of a brick-wall photo that scikit-image ships, with
# scratches, stains and foreign patches. Their tables are in `results/localisation/quick/` (the numbers above come
# from one short training in this notebook; those below from the preset).

# %%
RESULTS = results_folder()  # the checkout's results/, else the one beside the notebook; or $ADDA_KERAS_RESULTS
for benchmark in ("digits", "textures"):
    table = RESULTS / "localisation" / "quick" / benchmark / "table.md"
    if table.is_file():
        text = table.read_text()
        display(Markdown(text[text.index("## Targets") : text.index("### pixel AUROC")]))
    else:
        print(f"{benchmark}: no quick-preset table yet; run python -m adda_keras localise --benchmark {benchmark}")

# %% [markdown]
# ## Takeaway
#
# As a *localiser*, ADA's map is close to the plain residual of the same VAEGAN: on noisy digits level overall in this
# run (AUPRO 0.43 and 0.43), slightly ahead in the preset (0.388 against 0.369), and ahead on background defects,
# because the library's attention keeps weight on the background; on clean digits the background defects are where it
# loses to the residual, the paper's limitation, and the floor recovers most of that. A map is only as good as the
# residual under it and the weight the attention leaves on the defect, and the classical patch-kNN, best on the
# textures and on background defects, is the bar to clear.

# %% [markdown]
# ## Exercises
#
# 1. Which map has the best *pixel AUROC* on each defect kind in this notebook's run? Use the `results` dictionary.
# 2. In the 2×3 example, raise the value 0.3 of image A's map (the large region's lower pixel) to 0.7 and compute the
#    AUPRO again. Why does it rise, and to what?
#
# Each solution is in the collapsed cell below its number: click it to open it.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution 1: one entry per defect kind.
for kind in DIGIT_DEFECTS:
    best = max(MAP_METHODS, key=lambda method: results[method][kind]["pixel_auroc"])
    print(f"{kind:<11} best pixel AUROC: {LABELS[best]} ({results[best][kind]['pixel_auroc']:.3f})")

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution 2: every defect pixel (0.9, 0.8, 0.7) now scores above every normal pixel (at most 0.6), so both regions
# are found whole before the first false positive: PRO 1 from FPR 0 on, and the AUPRO is 1.
raised = maps.copy()
raised[0, 1, 2] = 0.7
print(f"AUPRO {aupro(masks, maps):.3f} -> {aupro(masks, raised):.3f}")
