"""Pixel AUROC and AUPRO against hand-computed values and a brute-force definition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from adda_keras.evaluation import aupro, pixel_auroc, pro_curve

# Image A: two defect regions, {(0,0)} and {(0,2), (1,2)}, not 8-connected; image B: no defect.
MASKS = np.array(
    [
        [[1, 0, 1], [0, 0, 1]],
        [[0, 0, 0], [0, 0, 0]],
    ],
    dtype=bool,
)
MAPS = np.array(
    [
        [[0.9, 0.5, 0.8], [0.1, 0.2, 0.3]],
        [[0.4, 0.0, 0.0], [0.0, 0.6, 0.0]],
    ]
)


def test_pixel_auroc_by_hand() -> None:
    # anomalous 0.9 and 0.8 beat all 9 normal pixels, 0.3 beats 6 of them (0.2, 0.1 and four zeros)
    assert pixel_auroc(MASKS, MAPS) == pytest.approx(24 / 27)


def test_pro_curve_by_hand() -> None:
    fpr, pro = pro_curve(MASKS, MAPS)
    # 0.9 finds region 1 (PRO 1/2), 0.8 half of region 2 (+1/4), then three normal pixels, then the rest of region 2
    assert fpr[:7] == pytest.approx([0, 0, 0, 1 / 9, 2 / 9, 3 / 9, 3 / 9])
    assert pro[:7] == pytest.approx([0, 0.5, 0.75, 0.75, 0.75, 0.75, 1.0])
    assert fpr[-1] == pytest.approx(1.0) and pro[-1] == pytest.approx(1.0)


def test_aupro_by_hand() -> None:
    # up to FPR 0.3 the PRO is 0.75 (the jump at FPR 0 has no width)
    assert aupro(MASKS, MAPS) == pytest.approx(0.75)
    # up to 0.5: 0.75 until FPR 3/9, then 1
    assert aupro(MASKS, MAPS, fpr_limit=0.5) == pytest.approx((0.75 * 3 / 9 + (0.5 - 3 / 9)) / 0.5)


def test_aupro_interpolates_at_the_limit() -> None:
    # a tie of a normal pixel and a defect pixel at 0.4: the curve goes from (2/9, 0.75) to (3/9, 1) in one segment
    maps = MAPS.copy()
    maps[0, 1, 2] = 0.4
    at_limit = 0.75 + 0.25 * (0.3 - 2 / 9) / (1 / 9)
    expected = (0.75 * 2 / 9 + (0.3 - 2 / 9) * (0.75 + at_limit) / 2) / 0.3
    assert aupro(MASKS, maps) == pytest.approx(expected)


def test_every_region_counts_alike() -> None:
    # one big region found, one single-pixel region missed: PRO 1/2, whatever the sizes
    masks = np.zeros((1, 6, 6), dtype=bool)
    masks[0, :3, :3] = True
    masks[0, 5, 5] = True
    maps = masks.astype(float)
    maps[0, 5, 5] = -1.0  # below every normal pixel
    assert aupro(masks, maps) == pytest.approx(0.5)
    assert pixel_auroc(masks, maps) == pytest.approx(0.9)  # 9 of 10 anomalous pixels beat every normal one


def test_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="no anomalous pixel"):
        aupro(np.zeros((1, 2, 2), bool), np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="normal pixels"):
        pixel_auroc(np.ones((1, 2, 2), bool), np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="maps must have the shape"):
        aupro(MASKS, MAPS[:1])
    with pytest.raises(ValueError, match="finite"):
        aupro(MASKS, np.full(MAPS.shape, np.nan))
    with pytest.raises(ValueError, match="fpr_limit"):
        aupro(MASKS, MAPS, fpr_limit=0)
    with pytest.raises(ValueError, match="boolean or 0/1"):
        aupro(MASKS * 2.5, MAPS)


def brute_aupro(masks: np.ndarray, maps: np.ndarray, limit: float) -> float:
    """The definition, threshold by threshold: FPR over normal pixels, PRO averaged over regions."""
    regions = []
    for mask, values in zip(masks, maps, strict=True):
        labelled, count = ndimage.label(mask, structure=np.ones((3, 3)))
        regions += [values[labelled == r] for r in range(1, count + 1)]
    normal = maps[~masks]
    points = [(0.0, 0.0)]
    for threshold in sorted(np.unique(maps), reverse=True):
        points.append(((normal >= threshold).mean(), np.mean([(r >= threshold).mean() for r in regions])))
    area = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if x0 >= limit:
            break
        if x1 > limit:
            y1 = y0 + (y1 - y0) * (limit - x0) / (x1 - x0)
            x1 = limit
        area += (x1 - x0) * (y0 + y1) / 2
    return area / limit


@st.composite
def masked_maps(draw):
    n, h, w = draw(st.integers(1, 3)), draw(st.integers(2, 6)), draw(st.integers(2, 6))
    masks = draw(arrays(bool, (n, h, w)))
    if not masks.any() or masks.all():
        masks = masks.copy()
        masks.flat[0] = not masks.flat[0]
    # few distinct values, so that ties between normal and defect pixels are common
    maps = draw(arrays(np.float64, (n, h, w), elements=st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 1.0])))
    return masks, maps


@settings(max_examples=80, deadline=None)
@given(masked_maps(), st.sampled_from([0.05, 0.3, 0.5, 1.0]))
def test_aupro_matches_the_definition(case, limit) -> None:
    masks, maps = case
    value = aupro(masks, maps, fpr_limit=limit)
    assert value == pytest.approx(brute_aupro(masks, maps, limit), abs=1e-9)
    assert -1e-12 <= value <= 1 + 1e-12


@settings(max_examples=40, deadline=None)
@given(masked_maps())
def test_metrics_depend_only_on_the_ranking(case) -> None:
    masks, maps = case
    squashed = np.tanh(3 * maps) + 7  # strictly increasing
    assert aupro(masks, squashed) == pytest.approx(aupro(masks, maps))
    assert pixel_auroc(masks, squashed) == pytest.approx(pixel_auroc(masks, maps))


@settings(max_examples=40, deadline=None)
@given(masked_maps())
def test_a_perfect_map_scores_one(case) -> None:
    masks, _ = case
    perfect = masks.astype(float)
    assert aupro(masks, perfect) == pytest.approx(1.0)
    assert pixel_auroc(masks, perfect) == pytest.approx(1.0)
