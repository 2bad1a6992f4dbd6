"""Toolkit benchmarks (issue: foundation).

1. Whole-process `inference-lens rank --json` with uncertainty over 5,000 companies costs
   at most 3x the same command over the shipped dataset.
2. Importing 5,000 companies (one file) takes at most 20 s.
Prints the figures; exits 1 when a target is missed.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

N_COMPANIES = 5_000
RUNS = 5
SCRIPT = Path(sys.executable).parent / "inference-lens"


def synthetic(n: int) -> dict:
    """n companies with three periods each and honest-looking ranges, deterministic."""

    def share(v: float) -> dict:
        return {
            "value": round(v, 4),
            "low": round(max(v - 0.05, 0), 4),
            "high": round(min(v + 0.05, 1), 4),
            "sources": ["bench"],
            "note": "synthetic",
        }

    companies = []
    for i in range(n):
        own = 0.05 + (i * 37 % 80) / 100
        ext = (1 - own) * ((i * 13 % 10) / 10)
        train = 1 - own - ext
        snaps = []
        for period in ("2024", "2025", "2026"):
            snaps.append(
                {
                    "period": period,
                    "ai_capex": {
                        "value": 1e9 + i * 1e6,
                        "low": 0.8e9 + i * 1e6,
                        "high": 1.2e9 + i * 1e6,
                        "currency": "USD",
                        "sources": ["bench"],
                        "note": "synthetic",
                    },
                    "allocation": {
                        "own_training": share(train),
                        "own_inference": share(own),
                        "external_iaas": share(ext / 2),
                        "external_maas": share(ext / 2),
                    },
                    "layer_mix": {
                        "iaas": share(0.25),
                        "maas": share(0.25),
                        "solutions": share(0.25),
                        "edge": share(0.25),
                    },
                }
            )
        companies.append(
            {
                "id": f"co{i:05d}",
                "name": {"zh": f"公司{i}", "en": f"Company {i}"},
                "region": "US" if i % 2 else "CN",
                "snapshots": snaps,
            }
        )
    return {
        "sources": [
            {"id": "bench", "title": "Synthetic", "publisher": "bench", "kind": "our_estimate"}
        ],
        "companies": companies,
    }


def timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([str(SCRIPT), *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        small = {**os.environ, "INFERENCE_LENS_DB": f"{tmp}/small.db"}
        large = {**os.environ, "INFERENCE_LENS_DB": f"{tmp}/large.db"}
        data = Path(tmp) / "large.yaml"
        data.write_text(
            yaml.safe_dump(synthetic(N_COMPANIES), allow_unicode=True), encoding="utf-8"
        )
        timed(["rank", "--json"], small)  # creates and seeds the database
        timed(["rank", "--json"], large)
        import_s = timed(["import", str(data)], large)
        small_s = statistics.median(timed(["rank", "--json"], small) for _ in range(RUNS))
        large_s = statistics.median(timed(["rank", "--json"], large) for _ in range(RUNS))
    ratio = large_s / small_s
    print(f"import of {N_COMPANIES:,} companies (x3 periods): {import_s:.2f} s (target <= 20 s)")
    print(f"rank --json, shipped data: {small_s * 1000:.0f} ms (median of {RUNS})")
    print(f"rank --json, {N_COMPANIES:,} companies: {large_s * 1000:.0f} ms (median of {RUNS})")
    print(f"ratio: {ratio:.2f}x (target <= 3x)")
    return 0 if import_s <= 20 and ratio <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
