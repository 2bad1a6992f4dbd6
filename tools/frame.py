"""Company-periods as columns of numbers: what rankings and the Monte Carlo work on.

Ranking thousands of companies one pydantic object at a time is slow; a Frame holds the
nine inputs of each company-period (value, low, high, disclosed) in one numpy array, built
either from snapshots or straight from the numbers the store keeps beside each snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tools.metrics import compute, usd_rate
from tools.models import ALLOCATION_KEYS, LAYERS, Estimate, FxRate, Snapshot

INPUTS = (
    *(f"allocation.{k}" for k in ALLOCATION_KEYS),
    *(f"layer_mix.{k}" for k in LAYERS),
    "ai_capex",
)
ALLOCATION = slice(0, 4)
LAYER_MIX = slice(4, 8)
CAPEX = 8
VALUE, LOW, HIGH, DISCLOSED = range(4)


def estimates(snap: Snapshot) -> list[Estimate]:
    """A snapshot's nine inputs in INPUTS order."""
    return [*snap.allocation.shares().values(), *snap.layer_mix.shares().values(), snap.ai_capex]


def encode(snap: Snapshot) -> bytes:
    """The numbers the store keeps beside a snapshot's JSON: 9 inputs x (value, low, high, disclosed)."""
    rows = [(e.value, *e.bounds, float(e.disclosed)) for e in estimates(snap)]
    return np.array(rows, dtype=np.float64).tobytes()


@dataclass(frozen=True)
class Frame:
    companies: list[str]
    periods: list[str]
    table: np.ndarray  # (n, 9 inputs, 4: value, low, high, disclosed)
    usd: np.ndarray  # (n,) USD per unit of each row's capex currency

    @classmethod
    def from_snapshots(
        cls, items: Sequence[tuple[str, Snapshot]], fx: Mapping[tuple[str, str], FxRate]
    ) -> Frame:
        blobs = [(cid, s.period, s.ai_capex.currency, encode(s)) for cid, s in items]
        return cls.from_rows(blobs, fx)

    @classmethod
    def from_rows(
        cls, rows: Sequence[tuple[str, str, str, bytes]], fx: Mapping[tuple[str, str], FxRate]
    ) -> Frame:
        """Rows of (company, period, currency, encoded numbers)."""
        table = np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float64).reshape(
            len(rows), len(INPUTS), 4
        )
        usd = np.array([usd_rate(currency, period, fx) for _, period, currency, _ in rows])
        return cls([r[0] for r in rows], [r[1] for r in rows], table, usd)

    def subset(self, rows: Sequence[int]) -> Frame:
        """The frame's rows at these indices, in this order."""
        return Frame(
            [self.companies[i] for i in rows],
            [self.periods[i] for i in rows],
            self.table[list(rows)],
            self.usd[list(rows)],
        )

    def __len__(self) -> int:
        return len(self.companies)

    def keys(self) -> list[str]:
        """Each row's random-stream key (see uncertainty._uniforms)."""
        return [f"{c}/{p}" for c, p in zip(self.companies, self.periods, strict=True)]

    def inputs(
        self, column: int = VALUE
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
        """Allocation shares, layer-mix shares and capex in USD, from one column."""
        t = self.table[:, :, column]
        allocation = dict(zip(ALLOCATION_KEYS, t[:, ALLOCATION].T, strict=True))
        mix = dict(zip(LAYERS, t[:, LAYER_MIX].T, strict=True))
        return allocation, mix, t[:, CAPEX] * self.usd

    def point_metrics(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v) for k, v in compute(*self.inputs()).items()}

    def edge_share(self) -> np.ndarray:
        mix = self.table[:, LAYER_MIX, VALUE]
        total = mix.sum(axis=1)
        return mix[:, -1] / np.where(total > 0, total, 1.0)

    def disclosed(self, columns: slice | list[int]) -> np.ndarray:
        """Whether every input in `columns` was disclosed by the company, per row."""
        return np.asarray(self.table[:, columns, DISCLOSED].reshape(len(self), -1).all(axis=1))

    def three_point(self, columns: slice | int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Value (the mode), low and high of the inputs in `columns`, each shaped (inputs, rows)."""
        part = self.table[:, columns].reshape(len(self), -1, 4)
        return part[:, :, VALUE].T, part[:, :, LOW].T, part[:, :, HIGH].T
