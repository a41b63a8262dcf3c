"""Run every bench/bench_*.py and print figure | value | baseline | ratio.

Benches report numbers; they never fail on a threshold. Run one area with
`python -m bench.run gap` (matches the module name).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from pathlib import Path

from bench.common import BenchRow


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:.3f} {unit}"


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    wanted = argv[1:]
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(here)])
        if m.name.startswith("bench_") and (not wanted or any(w in m.name for w in wanted))
    )
    rows: list[BenchRow] = []
    failed: list[str] = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            rows.extend(module.run())
        except Exception:
            traceback.print_exc()
            failed.append(name)
    headers = ("figure", "value", "baseline (same run)", "baseline value", "ratio", "target")
    table = [
        (
            r.figure,
            _fmt(r.value, r.unit),
            r.baseline,
            _fmt(r.baseline_value, r.unit),
            f"{r.ratio:.2f}x",
            r.target,
        )
        for r in rows
    ]
    widths = [
        max(len(h), *(len(row[i]) for row in table)) if table else len(h)
        for i, h in enumerate(headers)
    ]
    print(" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for row in table:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    if not rows:
        print("(no benchmarks yet)")
    if failed:
        print(f"benches that failed to run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
