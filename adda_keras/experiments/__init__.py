"""Runnable experiments: what the command line and ``make`` run, on top of the library.

* :mod:`~adda_keras.experiments.demo` — ``make demo``: one digit, AnoVAEGAN against ADA;
* :mod:`~adda_keras.experiments.reproduce` — the paper's Tables 1 and 3 beside the classical detectors;
* :mod:`~adda_keras.experiments.semi_supervised` — Table 3 for every normal digit (unknown and known anomalies apart);
* :mod:`~adda_keras.experiments.localise` — anomaly maps against ground-truth masks;
* :mod:`~adda_keras.experiments.real_images` — digits over real photographs and texture inspection;
* :mod:`~adda_keras.experiments.own_images` — ``fit`` / ``score`` on a folder of your own images;
* :mod:`~adda_keras.experiments.common` — the machine record and the output-folder check they share.

What goes here: the commands a user runs. Project maintenance goes in ``scripts/``; a one-off study that
chooses a default or writes a page of ``results/`` goes in the top-level ``studies/`` package, which
imports this one and is imported by nothing in ``adda_keras/``.

Each module is imported by name (``from adda_keras.experiments import reproduce``);
nothing here is imported by the library below it.
"""
