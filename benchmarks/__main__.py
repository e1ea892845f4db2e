"""``python -m benchmarks``: run the registry in one process, print the table, optionally JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

from benchmarks import BENCHMARKS
from benchmarks.common import fmt_time, machine, set_threads, table
from hls_sim.toolchain import ToolchainError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("--quick", action="store_true",
                    help="small sizes, kernels as a first run gets them: a smoke run")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these")
    ap.add_argument("--threads", type=int, metavar="N",
                    help="threads for numba and APyTypes (default: theirs; the C++ uses one)")
    args = ap.parse_args(argv)
    # the speed rows time the kernels compiled for their configuration (hls_sim.jit.kernel);
    # new_config sets its own mode per process. --quick, a smoke run of the harness (the test
    # suite runs it), takes the kernels as a user's first run would (auto: the generic ones,
    # the same bits) instead of compiling a dozen configurations.
    os.environ["HLS_SIM_KERNELS"] = "auto" if args.quick else "specialised"
    if args.threads:
        set_threads(args.threads)

    before = machine()
    print(f"hls-sim benchmarks{' (--quick)' if args.quick else ''}: {before['cpus']} CPUs, "
          f"load {before['load_avg']}, numba {before['numba']} (threads={before['numba_threads']})",
          flush=True)
    rows, skipped, errors = [], {}, {}
    start = time.perf_counter()
    for name in args.only or BENCHMARKS:
        t0 = time.perf_counter()
        try:
            rows += BENCHMARKS[name](args.quick)
        except (ModuleNotFoundError, ToolchainError) as e:  # an anchor not installed here
            skipped[name] = f"{type(e).__name__}: {e}"
        except Exception as e:  # one failing benchmark must not hide the others
            errors[name] = f"{type(e).__name__}: {e}"
            traceback.print_exc()
        print(f"  {name}: {fmt_time(time.perf_counter() - t0)}", flush=True)
    after = machine()
    print(table(rows))
    for name, why in skipped.items():
        print(f"{name}: SKIPPED: {why}")
    for name, err in errors.items():
        print(f"{name}: FAILED: {err}")
    print("ratio = anchor time / hls-sim time (above 1: hls-sim is faster); best of N each; "
          f"load after {after['load_avg']}; total {fmt_time(time.perf_counter() - start)}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"quick": args.quick, "machine_before": before, "machine_after": after,
                       "rows": [r.as_dict() for r in rows], "skipped": skipped,
                       "errors": errors}, f, indent=2)
    bad = [r.name for r in rows if r.identical is False]
    if bad:
        print(f"NOT BIT-IDENTICAL: {', '.join(bad)}")
    return 1 if bad or errors else 0


if __name__ == "__main__":
    sys.exit(main())
