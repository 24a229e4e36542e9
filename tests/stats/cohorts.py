"""Data sets the estimators are checked on: hand-made, lifelines' Waltons, and seeded random."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Cohort:
    name: str
    durations: np.ndarray
    events: np.ndarray
    groups: np.ndarray


def hand_cohort() -> Cohort:
    # Ties everywhere: two events at 3, an event and a censoring at 2 and at 8, censoring first.
    durations = np.array([1, 2, 2, 3, 3, 4, 5, 5, 6, 8, 8, 9, 10, 12], dtype=float)
    events = np.array([1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0])
    groups = np.array(["north", "south"] * 7)
    return Cohort("hand", durations, events, groups)


def waltons_cohort() -> Cohort:
    from lifelines.datasets import load_waltons  # ships inside lifelines; no download

    df = load_waltons()
    return Cohort(
        "waltons", df["T"].to_numpy(float), df["E"].to_numpy(int), df["group"].to_numpy(str)
    )


def random_cohort(seed: int = 20240611, n: int = 600, k: int = 4) -> Cohort:
    # Whole days up to 400 over 600 subjects: many times shared by events and censorings.
    rng = np.random.default_rng(seed)
    groups = rng.choice([f"site-{i}" for i in range(k)], size=n)
    scale = {f"site-{i}": 150 + 40 * i for i in range(k)}
    event_day = np.ceil(rng.exponential([scale[g] for g in groups]))
    censor_day = rng.integers(1, 400, size=n)
    durations = np.minimum(event_day, censor_day).astype(float)
    events = (event_day <= censor_day).astype(int)
    return Cohort(f"random-{seed}", durations, events, groups)
