"""One-off studies: runs that decided a default of the library or wrote a page of ``results/``.

Where code goes in this repository:

* ``adda_keras/`` — the library (data, models, attention, scoring, detectors, evaluation, localisation);
* ``adda_keras/experiments/`` — the commands users run (``python -m adda_keras demo | reproduce | localise |
  fit | score | calibrate``);
* ``scripts/`` — project maintenance (notebook sync, docs figures and screenshots, the wheel, benchmarks,
  the folder example, the number guard);
* ``studies/`` (this package) — one-off studies that chose a default or write a results page. Each study is
  one module that runs itself, ``python -m studies.<name> --help``, and imports the library; nothing in
  ``adda_keras/`` imports a study (``tests/test_layout.py`` checks it), and the wheel does not ship them.

The studies:

* :mod:`studies.tune_attention` — the VAEGAN and attention settings of ADA, chosen on validation data;
* :mod:`studies.calibrate_noise` — the background-noise strength, set with pixel baselines only;
* :mod:`studies.rescore_beta` — the reproduced Table 1 read at another β from its stored scores;
* :mod:`studies.summarise_results` — the headline summary of the reproduced tables (and README's copy);
* :mod:`studies.summarise_semi_table` — the ten-digit Table 3's tables from its finished units;
* :mod:`studies.semi_analysis` — the stored Table 3 units: combining the discriminators, β from few anomalies;
* :mod:`studies.semi_variants` — ways of training ``D_ano``, compared on validation images;
* :mod:`studies.summarise_real_images` — the real-image benchmarks' targets, met or not;
* :mod:`studies.real_remedies` — remedies for ADA on real images, compared on validation images;
* :mod:`studies.compare_digits` — ``ada-compare`` on the ten-digit protocol, its β read from validation images.

A new study goes here as one module with a ``main`` and an ``if __name__ == "__main__"`` line; what it
writes under ``results/`` names the command that wrote it (``python -m studies.<name> ...``).
"""
