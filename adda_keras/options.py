"""What the command line offers, readable without importing TensorFlow: the methods and the bounds of options.

``adda-keras --help`` lists the methods a user can pass to ``--method``; the
registry itself (:func:`adda_keras.available_detectors`) is filled by
importing the detector classes, and so TensorFlow, which takes seconds. This
table is the same list written out: ``tests/test_cli_fast.py`` checks that it
names exactly the registered detectors, so a detector added without a line
here fails the tests rather than going missing from the help.

The bounds of the numeric options live here too, so that the parser checks
them before anything heavy is imported, and the library applies the same ones.
"""

from __future__ import annotations

__all__ = [
    "MAX_BATCH_SIZE",
    "MAX_EPOCHS",
    "MAX_IMAGE_SIDE",
    "MAX_NOISE_STRENGTH",
    "METHOD_SUMMARIES",
    "MNIST_SOURCE_NAMES",
    "describe_methods",
    "missing_dependency",
]

#: the largest height or width images are read at: beyond it one image's networks outgrow a workstation's memory
MAX_IMAGE_SIDE = 1024
#: the most training epochs accepted (a typo such as 30000 fails at once, not after days)
MAX_EPOCHS = 10_000
#: the largest training batch accepted
MAX_BATCH_SIZE = 4096
#: the strongest background noise the commands accept (the paper's tables use 0.5 to 2; 1e300 overflowed)
MAX_NOISE_STRENGTH = 10.0

#: registered detector name -> what it scores, in one line
METHOD_SUMMARIES: dict[str, str] = {
    "ada": "ADA, CAM + D: attention-weighted VAEGAN residual minus beta * D(x) (the default)",
    "ada-cam-only": "ADA without the D term (beta = 0): attention-weighted residual only",
    "ada-d-only": "ADA's D term alone: -D(x), the discriminator's doubt that the image is normal",
    "anovaegan": "AnoVAEGAN: the VAEGAN's pixel residual mean (x - x_hat)^2",
    "ada-semi": "semi-supervised ADA: D_G + D_ano ensemble, needs --known-anomaly images to train",
    "ada-cam-ano": "semi-supervised ADA with attention from D_ano alone, needs --known-anomaly",
    "ada-synthetic": "ADA + D_ano trained against self-made anomalies of the normal images (no labels needed)",
    "ada-compare": "ADA + a discriminator comparing the image with its reconstruction (labels optional)",
    "compare": "that comparing discriminator alone: where image and reconstruction disagree abnormally",
    "anovae": "AnoVAE: a VAE's reconstruction residual",
    "anogan": "AnoGAN: residual of the GAN image found by latent search",
    "cnn-regression": "supervised CNN trained on normal vs --known-anomaly images (the paper's baseline)",
    "isolation-forest": "IsolationForest on raw pixels (scikit-learn; no maps)",
    "ocsvm": "one-class SVM on raw pixels (scikit-learn; no maps)",
    "pca": "PCA reconstruction residual on raw pixels",
    "knn": "distance to the nearest training images on raw pixels",
}

#: the values of ``demo --source`` (:data:`adda_keras.data.MNIST_SOURCES`, checked by the same test)
MNIST_SOURCE_NAMES = ("auto", "keras", "tfds", "bundled")


def describe_methods(width: int = 18) -> str:
    """The method table as help text: one ``name  summary`` line per registered detector."""
    return "\n".join(f"  {name:<{width}}{summary}" for name, summary in METHOD_SUMMARIES.items())


#: the wheel's extras that bring a module that the library imports, by top-level module name
EXTRA_OF_MODULE = {"tensorflow": "cpu", "keras": "cpu", "tensorflow_datasets": "tfds", "skimage": "textures"}


def missing_dependency(error: ModuleNotFoundError) -> ImportError | None:
    """An ``ImportError`` that names the extra to install for the missing module of ``error``, or ``None``.

    The wheel keeps TensorFlow in its extras (``[cpu]``, ``[gpu]``), so that a
    GPU machine does not get the CPU build; a bare ``pip install`` of the
    wheel then lacks it, and "No module named 'tensorflow'" does not say
    what to do.
    """
    top = (error.name or "").split(".")[0]
    if top not in EXTRA_OF_MODULE:
        return None
    extra = EXTRA_OF_MODULE[top]
    gpu = " (or [gpu] on a machine with an NVIDIA GPU)" if extra == "cpu" else ""
    return ImportError(
        f"adda_keras needs the module {top!r}, which comes with its [{extra}] extra: "
        f'pip install "adda_keras[{extra}]"{gpu}, or pip install "<the .whl file>[{extra}]"'
    )
