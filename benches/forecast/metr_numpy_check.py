#!/usr/bin/env python3
"""Independent check of the METR doubling times used in
crates/rsp-forecast/tests/published.rs: frontier filter (p50 >= max of every
strictly earlier release), then numpy OLS of ln(p50) on the release date in days.

Output at the time of writing (numpy 2.4):
  v1.1 2026-01-30 all:        196.475   (METR TH1.1 blog: ~196 days)
  v1.1 2026-01-30 since 2023: 130.801   (METR TH1.1 blog: 131 days)
  v1.1 2026-01-30 since 2024:  96.774   (METR TH1.1 blog: 89 days, not reproduced)
  v1.1 2026-03-03 since 2023: 128.744   (no published figure)
  v1.0 since 2023:            164.999   (METR TH1.1 blog, TH1.0 figure: 165 days)

Second rule, as in METR's trendline code (`get_sota_agents` in
METR/eval-analysis-public): drop releases before the cut-off first, then a release
is frontier if its p50 is >= the maximum of every release on or before its date
(so only a date's best counts) -- rsp's FrontierScope::SinceDate with
DuplicateDates::MaxPerDate:
  v1.1 2026-01-30 since 2023: 130.801
  v1.1 2026-01-30 since 2024:  94.136   (METR TH1.1 blog: 89 days, not reproduced)
  v1.0 since 2023:            165.251   (165 days)
"""
import csv
import datetime
import math
import os

import numpy as np

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "scaling")


def doubling(name, since):
    rows = list(csv.DictReader(open(os.path.join(DATA, name))))
    xs, ys = [], []
    for r in rows:
        v = float(r["p50_minutes"])
        earlier = [float(q["p50_minutes"]) for q in rows if q["release_date"] < r["release_date"]]
        if v >= max(earlier, default=-math.inf) and r["release_date"] >= since:
            xs.append(datetime.date.fromisoformat(r["release_date"]).toordinal())
            ys.append(math.log(v))
    return math.log(2) / np.polyfit(xs, ys, 1)[0]


def doubling_window(name, since):
    rows = [r for r in csv.DictReader(open(os.path.join(DATA, name))) if r["release_date"] >= since]
    xs, ys = [], []
    for r in rows:
        v = float(r["p50_minutes"])
        rivals = [float(q["p50_minutes"]) for q in rows if q["release_date"] <= r["release_date"]]
        if v >= max(rivals):
            xs.append(datetime.date.fromisoformat(r["release_date"]).toordinal())
            ys.append(math.log(v))
    return math.log(2) / np.polyfit(xs, ys, 1)[0]


for name, since in [
    ("metr_horizons_v1_1_snapshot-2026-01-30.csv", "0000"),
    ("metr_horizons_v1_1_snapshot-2026-01-30.csv", "2023-01-01"),
    ("metr_horizons_v1_1_snapshot-2026-01-30.csv", "2024-01-01"),
    ("metr_horizons_v1_1_snapshot-2026-03-03.csv", "2023-01-01"),
    ("metr_horizons_v1_0_snapshot-2026-01.csv", "2023-01-01"),
]:
    print(f"{name} since {since}: {doubling(name, since):.3f}")

for name, since in [
    ("metr_horizons_v1_1_snapshot-2026-01-30.csv", "2023-01-01"),
    ("metr_horizons_v1_1_snapshot-2026-01-30.csv", "2024-01-01"),
    ("metr_horizons_v1_0_snapshot-2026-01.csv", "2023-01-01"),
]:
    print(f"{name} since {since}, window rule: {doubling_window(name, since):.3f}")
