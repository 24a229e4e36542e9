"""Input checks and the shared risk table, so every estimator rejects bad data the same way."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


def as_durations(durations: ArrayLike) -> NDArray[np.float64]:
    try:
        t = np.asarray(durations, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"durations must be numbers of days: {exc}") from None
    if t.ndim != 1:
        raise ValueError(f"durations must be one-dimensional, got shape {t.shape}")
    if t.size == 0:
        raise ValueError("durations is empty: at least one subject is needed")
    bad = ~np.isfinite(t)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"durations must be finite; subject at index {i} has {t[i]}")
    negative = t < 0
    if negative.any():
        i = int(np.flatnonzero(negative)[0])
        raise ValueError(f"durations must be >= 0 days; subject at index {i} has {t[i]}")
    return t


def as_events(events: ArrayLike, n: int) -> NDArray[np.bool_]:
    e = np.asarray(events)
    _check_length("events", e, n)
    if e.dtype == np.bool_:
        return e
    if e.dtype.kind not in "iuf":
        raise ValueError(f"events must be booleans or 0/1, got dtype {e.dtype}")
    bad = (e != 0) & (e != 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"events must be 0 (censored) or 1 (event); subject at index {i} has {e[i]}"
        )
    return e == 1


def as_event_codes(codes: ArrayLike, n: int) -> NDArray[np.int64]:
    c = np.asarray(codes)
    _check_length("event_codes", c, n)
    if c.dtype.kind not in "iuf":
        raise ValueError(f"event_codes must be integers (0 = censored), got dtype {c.dtype}")
    bad = c < 0
    if c.dtype.kind == "f":
        bad |= ~np.isfinite(c) | (c != np.round(c))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"event_codes must be integers >= 0 (0 = censored); subject at index {i} has {c[i]}"
        )
    return c.astype(np.int64)


def as_confidence(confidence: float) -> float:
    level = float(confidence)
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")
    return level


def _check_length(name: str, values: NDArray, n: int) -> None:
    if values.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {values.shape}")
    if values.size != n:
        raise ValueError(f"{name} has {values.size} values but durations has {n}")


def read_only(array: NDArray) -> NDArray:
    # Results are frozen dataclasses; without this a caller could still edit a curve in place.
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class RiskTable:
    """Counts at every distinct duration (event or censoring), in increasing order."""

    times: NDArray[np.float64]
    at_risk: NDArray[np.int64]  # subjects whose duration is >= the time
    removed: NDArray[np.int64]  # subjects whose duration equals the time
    index: NDArray[np.intp]  # for each subject, the position of its duration in `times`

    @classmethod
    def from_durations(cls, durations: NDArray[np.float64]) -> RiskTable:
        times, index, removed = np.unique(durations, return_inverse=True, return_counts=True)
        at_risk = durations.size - np.cumsum(removed) + removed
        return cls(times=times, at_risk=at_risk, removed=removed, index=index)

    def count(self, where: NDArray[np.bool_]) -> NDArray[np.int64]:
        """How many of the selected subjects have each distinct duration."""
        return np.bincount(self.index[where], minlength=self.times.size)

    def at_risk_at(self, t: float) -> int:
        """Subjects still under observation just before ``t`` (duration >= t)."""
        i = int(np.searchsorted(self.times, t, side="left"))
        return int(self.at_risk[i]) if i < self.times.size else 0


def is_missing(values: NDArray) -> NDArray[np.bool_]:
    """None or NaN, elementwise; only object and float arrays can hold either."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype == object:
        return _missing_ufunc(values).astype(np.bool_)
    return np.zeros(values.shape, dtype=np.bool_)


def _missing_scalar(x: object) -> bool:
    return x is None or (isinstance(x, float) and x != x)


_missing_ufunc = np.frompyfunc(_missing_scalar, 1, 1)


def as_labels(groups: ArrayLike, n: int) -> tuple[tuple, NDArray[np.intp]]:
    """Sorted distinct group labels (as Python scalars) and each subject's label index."""
    g = np.asarray(groups)
    _check_length("groups", g, n)
    missing = is_missing(g)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"every subject needs a group; subject at index {i} has none "
            "(leave such subjects out, or give them a group of their own)"
        )
    try:
        labels, index = np.unique(g, return_inverse=True)
    except TypeError:
        raise ValueError(
            "group labels must all be of one comparable type, e.g. all strings"
        ) from None
    return tuple(labels.tolist()), index
