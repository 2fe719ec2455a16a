"""Checks of numeric settings, shared by the detectors and the commands.

A setting that is NaN, negative where it must not be, or a float where a
count is meant would otherwise be accepted and turn into a score that means
something else (a silently truncated neighbour count, a NaN score, a dropped
loss term). These checks run in constructors, before any data is read or any
model trained, and raise ``ValueError`` naming the setting and the expected
form.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

__all__ = ["MAX_SEED", "check_int", "check_number", "check_seed"]

MAX_SEED = 2**32 - 1
"""The largest seed accepted: NumPy's global seed (set by every detector) is a 32-bit unsigned int."""


def check_number(
    name: str,
    value: float,
    low: float = 0.0,
    high: float = math.inf,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """Return ``value`` as a float if it is a finite real number between ``low`` and ``high``.

    Each end is included unless ``open_low`` / ``open_high``. Bools are
    rejected although Python counts them as numbers.
    """
    valid = (
        isinstance(value, Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (low < value if open_low else low <= value)
        and (value < high if open_high else value <= high)
    )
    if not valid:
        interval = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high or high == math.inf else ']'}"
        raise ValueError(f"{name} must be a finite number in {interval}; got {value!r}")
    return float(value)


def check_int(name: str, value: int, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer (not a float, not a bool) in ``[minimum, maximum]``."""
    valid = (
        isinstance(value, Integral)
        and not isinstance(value, bool)
        and value >= minimum
        and (maximum is None or value <= maximum)
    )
    if not valid:
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be an integer {bound}; got {value!r}")
    return int(value)


def check_seed(name: str, value: int) -> int:
    """Return ``value`` as an int if it is a valid seed: an integer in ``[0, MAX_SEED]``."""
    return check_int(name, value, minimum=0, maximum=MAX_SEED)
