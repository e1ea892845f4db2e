"""What the benchmarks share: best-of-N timing, one result row, the machine's state, the table."""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build" / "benchmarks"


def best_of(fn: Callable[[], Any], repeat: int, warmup: int = 1) -> tuple[float, float, Any]:
    """(best, median, last result) of ``repeat`` timed calls of ``fn`` after ``warmup`` untimed
    ones. The best is the least disturbed by a busy machine; the median shows the spread."""
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(repeat):
        result = None  # let the previous result go before the next call allocates its own
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


@dataclass
class Row:
    """One comparison. ``ratio`` is anchor time / hls-sim time: above 1, hls-sim is faster
    (for the warm start the anchor is the time limit, so the ratio is the headroom)."""

    name: str
    what: str
    seconds: float                 # hls-sim, best of N
    anchor: str
    anchor_seconds: float
    identical: bool | None = None  # None: nothing to compare
    check: str = ""                # what was compared
    target: float | None = None    # least acceptable ratio
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.anchor_seconds / self.seconds

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.ratio >= self.target

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio, "met": self.met}


def machine() -> dict:
    """CPU count, load average and thread counts, to read the times against."""
    import numba

    info: dict = {"cpus": os.cpu_count(), "load_avg": [round(v, 2) for v in os.getloadavg()],
                  "numba": numba.__version__, "numba_threads": numba.get_num_threads()}
    try:
        import apytypes

        info.update(apytypes=apytypes.__version__, apytypes_threads=apytypes.n_threads())
    except ImportError:
        pass
    return info


def set_threads(n: int) -> None:
    """Run numba's parallel loops and APyTypes' pool on ``n`` threads."""
    import numba

    numba.set_num_threads(n)
    try:
        import apytypes

        apytypes.reset_thread_pool(n)
    except ImportError:
        pass


def fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.1f} us"


def table(rows: list[Row]) -> str:
    """The compact table: absolute times, the ratio, the target and the bit-identity check."""
    head = ("benchmark", "hls-sim", "anchor", "anchor time", "ratio", "target", "bit-identical")
    body = []
    for r in rows:
        target = "" if r.target is None else f">={r.target:g}x " + ("ok" if r.met else "MISSED")
        ident = "-" if r.identical is None else ("yes" if r.identical else "NO") + f" ({r.check})"
        body.append((f"{r.name}: {r.what}", fmt_time(r.seconds), r.anchor,
                     fmt_time(r.anchor_seconds), f"{r.ratio:.2f}x", target, ident))
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += [f"  {r.name}: {r.extra['note']}" for r in rows if "note" in r.extra]
    return "\n".join(lines)
