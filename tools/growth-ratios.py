#!/usr/bin/env python3
"""Prints, per family and entry point of `benches/growth.rs`, the mean time at each size and
the ratio of each doubling (linear cost: about 2; the issue's bound: at most 2.5).
Reads criterion's results: tools/growth-ratios.py [TARGET_DIR (default: target)]."""
import glob
import json
import os
import sys

target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", "target")
ENTRIES = ["c14n-inclusive", "c14n-exclusive", "to-fhir", "convert", "prepare"]
rows = {}
for path in glob.glob(os.path.join(target, "criterion", "growth-*", "*", "new", "estimates.json")):
    parts = path.split(os.sep)
    group, size = parts[-4], parts[-3]
    if not size.isdigit():
        continue
    with open(path) as f:
        rows.setdefault(group, {})[int(size)] = json.load(f)["mean"]["point_estimate"]
print("| family | entry point | sizes | mean time | ratio n→2n | ratio 2n→4n |")
print("|---|---|---|---|---|---|")
worst = 0.0
for group in sorted(rows):
    sizes = sorted(rows[group])
    times = [rows[group][s] for s in sizes]
    ratios = [b / a for a, b in zip(times, times[1:])]
    worst = max([worst] + ratios)
    name = group[len("growth-"):]
    entry = next(e for e in ENTRIES if name.endswith("-" + e))
    family = name[: -len(entry) - 1]
    fmt = lambda ns: f"{ns / 1e6:.2f} ms" if ns >= 1e5 else f"{ns / 1e3:.1f} µs"
    print(f"| {family} | {entry} | {', '.join(map(str, sizes))} | {' / '.join(map(fmt, times))} | "
          + " | ".join(f"{r:.2f}" for r in ratios) + " |")
print(f"\nlargest doubling ratio: {worst:.2f}")
