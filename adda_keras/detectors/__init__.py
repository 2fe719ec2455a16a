"""Every detector of the paper and its peers behind one API, registered by name, grouped by family.

* :mod:`~adda_keras.detectors.base` — the API: :class:`AnomalyDetector`,
  :class:`AnomalyResult`, thresholds, saving and loading, the registry;
* :mod:`~adda_keras.detectors.ada` — the VAEGAN family: ADA (self- and
  semi-supervised) and AnoVAEGAN, scores of one trained VAEGAN;
* :mod:`~adda_keras.detectors.synthetic` — ``ada-synthetic``: the ensemble
  with ``D_ano`` trained against self-made anomalies;
* :mod:`~adda_keras.detectors.compare` — ``ada-compare`` (an extension of the
  paper): a second discriminator that compares the image with its
  reconstruction, trained against self-made foreign patches (and labelled
  anomalies when given);
* :mod:`~adda_keras.detectors.reconstruction` — AnoVAE and AnoGAN;
* :mod:`~adda_keras.detectors.supervised` — the paper's CNN regression;
* :mod:`~adda_keras.detectors.baselines` — classical detectors on raw pixels.

Importing this package registers every family, so that
``make_detector("ada")`` works after ``import adda_keras``.
"""

from adda_keras.detectors.base import (
    DEFAULT_TARGET_FPR,
    LEARNING_TYPES,
    MAP_SCALE_QUANTILE,
    THRESHOLD_STRATEGIES,
    AnomalyDetector,
    AnomalyResult,
    DetectorCapabilities,
    KerasDetector,
    available_detectors,
    detector_capabilities,
    load_detector,
    make_detector,
    register_detector,
)

# Importing the families registers their detectors by name.
from adda_keras.detectors import ada, baselines, compare, reconstruction, supervised, synthetic  # noqa: E402,F401  isort: skip

__all__ = [
    "DEFAULT_TARGET_FPR",
    "MAP_SCALE_QUANTILE",
    "LEARNING_TYPES",
    "THRESHOLD_STRATEGIES",
    "AnomalyDetector",
    "AnomalyResult",
    "DetectorCapabilities",
    "KerasDetector",
    "available_detectors",
    "detector_capabilities",
    "load_detector",
    "make_detector",
    "register_detector",
]
