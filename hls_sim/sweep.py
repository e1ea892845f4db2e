"""Bit-width sweeps: many datapath configurations of one network, each evaluated on a dataset
(hls_sim.evaluate), serially or on a Dask cluster.

    axes = [parse_vary("head.acc_t=ap_int<14..24>", net), parse_vary("*.qd_t=...", net)]
    configs = grid(net, axes)                  # the product of the axes, the network's own first
    res = run_sweep(Job(net_path, data), configs, "out/", workers=2)
    res.rows, res.pareto, choose(res.rows, max_loss_db=1.0)

A configuration sets internal datapath types (acc_t, qd_t, sum_t, product_t, tree_t: the
types that change no layer's wiring, as the network report's advice) of some layers; the
rest of the network is as its file says. Its id is a digest of every type it sets, so the
same configuration has the same id in any grid. ``bits`` is the sum of the widths of the
types the sweep varies (what a narrower datapath saves).

Execution (docs/eval.md): every configuration's kernels are made ready in this process first
(compiled or loaded, as hls_sim.jit.kernel_mode says: the generic builds by default, each
configuration's specialised code with ``--kernels specialised``), one after the other, then
the configurations fan out, one task each; the workers only load the compiled kernels (no
worker spends a task compiling; hls_sim.jit locks numba's cache
index, so processes that do compile at once, e.g. remote workers, stay correct). Each finished configuration is appended to
``DIR/results.jsonl`` at once (flushed, fsynced); a sweep started again on the same folder
skips the configurations already there. The table, the summary and the plot are written
at the end, all or nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hls_sim.jit import compiles
from hls_sim.network import Network, NetworkError, run_network, with_config
from hls_sim.report.network import INTERNAL_TYPES
from hls_sim.types import parse

SCHEMA = "hls-sim-sweep/1"
RESULTS = "results.jsonl"
INPUTS = "inputs.json"
OUTPUTS = ("sweep.json", "sweep.csv", "sweep.png")
MAX_VALUES = 256  # per --vary
MAX_CONFIGS = 10_000
# row fields that differ between runs of the same configuration by nature (where and when it
# ran; "span": the task's start and end, seconds since the epoch, on the worker's clock)
VOLATILE = ("seconds", "pid", "compiled", "span")
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
METRICS = ("sqnr_db", "sqnr_db_min", "rmse_lsb", "max_abs_lsb", "differ", "overflow",
           "argmax_agree", "label_acc")
_RANGE = re.compile(r"(\d+)\.\.(\d+)")


# ---- configurations -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Axis:
    """One ``--vary``: the layers it sets (several for ``*``), the type, the values."""

    label: str  # LAYER.TYPE as given
    layers: tuple[str, ...]
    type_name: str
    values: tuple[str, ...]  # canonical spellings


@dataclass(frozen=True)
class Config:
    """One configuration: ``settings`` (axis label -> spelling, for people) and ``changes``
    (layer -> type -> spelling: every type it sets)."""

    id: str
    settings: dict[str, str]
    changes: dict[str, dict[str, str]]
    bits: int
    baseline: bool = False


def _split_top(text: str) -> list[str]:
    """Split at the commas outside <...>."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "<") - (ch == ">")
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return out + [cur]


def parse_vary(text: str, net: Network, what: str = "--vary") -> Axis:
    """``LAYER.TYPE=VALUES``: LAYER a layer name or ``*`` (every layer with weights), TYPE one
    of the internal types, VALUES spellings separated by commas, where ``A..B`` in one of them
    stands for every integer from A to B (``ap_int<14..24>``, ``ap_fixed<16,4..8>``)."""
    def err(reason: str) -> NetworkError:
        return NetworkError(net.path, f"{what} {text!r}", reason)

    left, eq, right = text.partition("=")
    layer, dot, tname = left.strip().rpartition(".")
    if not eq or not dot or not right.strip():
        raise err("expected LAYER.TYPE=VALUES, e.g. head.acc_t=ap_int<14..24>")
    if tname not in INTERNAL_TYPES:
        raise err(f"{tname!r}: a sweep varies the internal types {', '.join(INTERNAL_TYPES)} "
                  "(the others wire layers together or hold the weights)")
    names = [nl.name for nl in net.layers]
    if layer == "*":
        layers = tuple(nl.name for nl in net.layers if nl.layer.spec.epilogue)
    elif layer in names:
        layers = (layer,)
    else:
        raise err(f"no layer {layer!r}; the layers: {', '.join(names)} (or * for every layer with weights)")
    values: list[str] = []
    for item in _split_top(right):
        item = item.strip()
        found = list(_RANGE.finditer(item))
        if len(found) > 1:
            raise err(f"{item!r}: at most one A..B range in a spelling")
        spans = [item]
        if found:
            a, b = int(found[0].group(1)), int(found[0].group(2))
            if a > b or b - a >= MAX_VALUES:
                raise err(f"{item!r}: expected A..B with A <= B and at most {MAX_VALUES} values")
            spans = [item[:found[0].start()] + str(n) + item[found[0].end():] for n in range(a, b + 1)]
        for s in spans:
            try:
                values.append(str(parse(s)))
            except ValueError as e:
                raise err(f"{s!r}: {e}") from None
    return Axis(left.strip(), layers, tname, tuple(dict.fromkeys(values)))


def config_id(changes: dict[str, dict[str, str]]) -> str:
    """A stable id: a digest of every type the configuration sets."""
    text = json.dumps({k: dict(sorted(v.items())) for k, v in sorted(changes.items())}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _own(net: Network, layer: str, tname: str) -> str:
    c = next(nl.layer.config for nl in net.layers if nl.name == layer)
    t = getattr(c, tname)
    return "natural" if t is None else str(t)


def make_configs(net: Network, settings_list: list[dict[str, tuple[Axis, str]]]) -> list[Config]:
    """Configurations from (label -> (axis, spelling)) mappings; every configuration sets every
    (layer, type) that any of them sets (the network's own type where it leaves one out), so
    that equal datapaths have equal ids. The network as written comes first (``baseline``);
    each one is checked on the network (one-line NetworkError)."""
    keys = list(dict.fromkeys((ly, ax.type_name) for s in settings_list for ax, _ in s.values()
                              for ly in ax.layers))
    own = {k: _own(net, *k) for k in keys}
    out: dict[str, Config] = {}

    def add(settings: dict[str, str], typed: dict[tuple[str, str], str], baseline: bool) -> None:
        changes: dict[str, dict[str, str]] = {}
        for (ly, tn) in keys:
            changes.setdefault(ly, {})[tn] = typed.get((ly, tn), own[(ly, tn)])
        cid = config_id(changes)
        bits = sum(parse(v).width for ch in changes.values() for v in ch.values() if v != "natural")
        if cid not in out:
            out[cid] = Config(cid, settings, changes, bits, baseline)

    add({lab: _uniform([own[(ly, ax.type_name)] for ly in ax.layers])
         for s in settings_list[:1] for lab, (ax, _) in s.items()}, {}, True)
    for s in settings_list:
        typed: dict[tuple[str, str], str] = {}
        for lab, (ax, v) in s.items():
            for ly in ax.layers:
                if (ly, ax.type_name) in typed:
                    raise NetworkError(net.path, f"--vary {lab!r}", f"{ly}.{ax.type_name} is set "
                                       "twice in one configuration")
                typed[(ly, ax.type_name)] = v
        add({lab: v for lab, (_, v) in s.items()}, typed, False)
    configs = list(out.values())
    for c in configs:
        apply(net, c)  # refuse a configuration the layers cannot take, before any work
    return configs


def _uniform(values: list[str]) -> str:
    return values[0] if len(set(values)) == 1 else "as written"


def grid(net: Network, axes: list[Axis]) -> list[Config]:
    """The product of the axes (the network as written first)."""
    n = int(np.prod([len(a.values) for a in axes])) if axes else 0
    if n > MAX_CONFIGS:
        raise NetworkError(net.path, "--vary", f"{n} configurations; at most {MAX_CONFIGS}")
    labels = [a.label for a in axes]
    if len(set(labels)) != len(labels):
        raise NetworkError(net.path, "--vary", "the same LAYER.TYPE is varied twice")
    combos = itertools.product(*[[(a, v) for v in a.values] for a in axes]) if axes else []
    return make_configs(net, [dict(zip(labels, c)) for c in combos])


def read_config_list(path: str | Path, net: Network) -> list[Config]:
    """A list file: YAML, a list of mappings ``{LAYER.TYPE: spelling, ...}``, one per
    configuration."""
    from hls_sim.layer import LayerError, read_yaml

    try:
        doc = read_yaml(path)
    except LayerError as e:
        raise NetworkError(str(path), e.field, e.reason) from None
    if not isinstance(doc, list) or not doc or not all(isinstance(d, dict) and d for d in doc):
        raise NetworkError(str(path), "", "expected a list of mappings {LAYER.TYPE: spelling, ...}")
    settings_list = []
    for i, d in enumerate(doc):
        s = {}
        for k, v in d.items():
            ax = parse_vary(f"{k}={v}", net, what=f"{path}: [{i}]")
            if len(ax.values) != 1:
                raise NetworkError(str(path), f"[{i}].{k}", "one spelling per configuration (no list, no range)")
            s[ax.label] = (ax, ax.values[0])
        settings_list.append(s)
    return make_configs(net, settings_list)


def apply(net: Network, config: Config) -> Network:
    """The network with the configuration's types."""
    return with_config(net, {ly: {t: v for t, v in ch.items() if v != "natural"}
                             for ly, ch in config.changes.items()})


# ---- one task -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    """What every task needs, by name (files the workers can read): the network file, the
    data and the labels."""

    network: str
    data: str
    labels: str | None = None


_PREPARED: dict[Job, list] = {}


def _prepared(job: Job, reference: bool = False) -> tuple[Network, np.ndarray | None, list | None]:
    """The network on the data, the labels and (with ``reference``) the float outputs: each
    once per process."""
    from hls_sim.evaluate import float_outputs, load_dataset

    if job not in _PREPARED:
        net, labels, _ = load_dataset(job.network, job.data, job.labels)
        _PREPARED.clear()  # one job at a time
        _PREPARED[job] = [net, labels, None]
    got = _PREPARED[job]
    if reference and got[2] is None:
        got[2] = float_outputs(got[0])
    return got[0], got[1], got[2]


def prepared_network(job: Job) -> Network:
    """The job's network on its data (loaded once per process; checks the files)."""
    return _prepared(job)[0]


def evaluate_config(job: Job, config: Config) -> dict:
    """One configuration on the whole dataset: the summary metrics (the task of a sweep)."""
    from hls_sim.evaluate import evaluate

    started, start = time.time(), time.perf_counter()
    net, labels, ref = _prepared(job, reference=True)
    with compiles() as compiled:
        ev = evaluate(apply(net, config), labels, layers=False, reference=ref)
    return {"metrics": {k: ev.summary[k] for k in METRICS}, "seconds": time.perf_counter() - start,
            "task_seconds": ev.seconds, "pid": os.getpid(), "compiled": len(compiled),
            "span": [started, time.time()]}


def compile_config(job: Job, config: Config) -> None:
    """Make every kernel of a configuration ready in this process (compiled into the disk
    cache, or loaded from it): one run on the first image."""
    net, _, _ = _prepared(job)
    run_network(dataclasses.replace(apply(net, config), images=net.images[:1]), reference=False)


# ---- the results folder ---------------------------------------------------------------------------
def _digest(job: Job, net: Network, labels: np.ndarray | None) -> str:
    h = hashlib.sha256(Path(job.network).read_bytes())
    for nl in net.layers:  # the weights, as loaded
        for a in (nl.layer.weight, nl.layer.bias, nl.layer.factor):
            if a is not None:
                h.update(np.ascontiguousarray(a).tobytes())
    h.update(np.ascontiguousarray(net.images).tobytes())
    if labels is not None:
        h.update(labels.tobytes())
    return h.hexdigest()[:16]


def read_results(folder: Path) -> list[dict]:
    """The rows already in ``results.jsonl``; a last line cut short by an interrupted write
    is dropped (and cut from the file, so that appends start on a line of their own)."""
    p = folder / RESULTS
    if not p.exists():
        return []
    data = p.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        with open(p, "r+b") as f:
            f.truncate(end)
    rows = []
    for ln in data[:end].splitlines():
        try:
            rows.append(json.loads(ln))
        except ValueError:
            continue
    return list({r["id"]: r for r in rows if isinstance(r, dict) and "id" in r}.values())


def _append(folder: Path, row: dict) -> None:
    with open(folder / RESULTS, "a", encoding="utf-8") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def open_folder(folder: Path, digest: str, fresh: bool) -> list[dict]:
    """Check (or start) the results folder; the rows to resume from."""
    inputs = folder / INPUTS
    if folder.exists() and not folder.is_dir():
        raise NetworkError(str(folder), "", "exists and is not a folder")
    if fresh:
        for n in (RESULTS, INPUTS, *OUTPUTS):
            (folder / n).unlink(missing_ok=True)
    if inputs.exists():
        try:
            old = json.loads(inputs.read_text()).get("inputs")
        except (OSError, ValueError, AttributeError):
            old = None
        if old != digest:
            raise NetworkError(str(folder), "", "holds a sweep of another network, dataset or labels "
                                                "(inputs.json); use another folder or --fresh")
        return read_results(folder)
    if (folder / RESULTS).exists():
        raise NetworkError(str(folder), "", f"holds {RESULTS} but no {INPUTS}; use another folder or --fresh")
    from hls_sim.files import write_files

    write_files(folder, {INPUTS: (json.dumps({"schema": SCHEMA, "inputs": digest}) + "\n").encode()},
                _WriteError)
    return []


class _WriteError(NetworkError):
    def __init__(self, message: str):
        super().__init__(message, "", "cannot write")


# ---- running ---------------------------------------------------------------------------------------
@dataclass
class SweepResult:
    rows: list[dict]  # every configuration's, sorted by bits
    failed: list[dict]  # {"id", "settings", "error"}
    computed: list[str]  # ids computed by this run (the others were in results.jsonl)
    pareto: list[str]
    seconds: float
    where: str  # in words
    compile_seconds: float = 0.0
    fanout_seconds: float = 0.0  # from the first task sent to the last result written
    written: list[Path] = dataclasses.field(default_factory=list)


def _row(config: Config, out: dict) -> dict:
    return {"id": config.id, "settings": config.settings, "bits": config.bits,
            "baseline": config.baseline, **out["metrics"],
            "seconds": round(out["seconds"], 4), "pid": out["pid"], "compiled": out["compiled"],
            "span": out["span"]}


def run_sweep(job: Job, configs: list[Config], out_dir: str | Path, *, serial: bool = False,
              scheduler: str | None = None, workers: int | None = None, fresh: bool = False,
              max_loss_db: float | None = None, retries: int = 1,
              on_row: Callable[[dict], None] | None = None,
              log: Callable[[str], None] = lambda s: None, bar: bool = True) -> SweepResult:
    """Evaluate every configuration not yet in ``out_dir`` and write the results.

    ``serial``: in this process; else on Dask: the cluster at ``scheduler``, or a LocalCluster
    of ``workers`` processes (default: the cores), one thread each. A task that fails is
    retried ``retries`` times, then reported in ``failed``; the others still finish and are
    written. ``on_row(row)`` is called after each row is written."""
    start = time.perf_counter()
    folder = Path(out_dir)
    net, labels, _ = _prepared(job)
    done = {r["id"]: r for r in open_folder(folder, _digest(job, net, labels), fresh)}
    todo = [c for c in configs if c.id not in done]
    log(f"sweep     {len(configs)} configuration(s): {len(configs) - len(todo)} already in "
        f"{folder / RESULTS}, {len(todo)} to run")
    failed: list[dict] = []
    computed: list[str] = []

    def finished(c: Config, out: dict) -> None:
        row = _row(c, out)
        _append(folder, row)
        done[c.id] = row
        computed.append(c.id)
        if on_row is not None:
            on_row(row)

    compile_s = 0.0
    t_fan = time.perf_counter()
    fanout = 0.0
    if serial or not todo:
        where = "serial, in this process" if todo else "nothing left to run"
        for c in _bar(todo, bar, "configurations"):
            try:
                out = _attempts(job, c, retries)
            except Exception as e:  # noqa: BLE001 - reported by configuration
                failed.append({"id": c.id, "settings": c.settings, "error": f"{type(e).__name__}: {e}"})
                continue
            finished(c, out)
    else:
        t0 = time.perf_counter()
        for c in _bar(todo, bar, "compiling"):  # one after the other, before the fan-out
            compile_config(job, c)
        compile_s = time.perf_counter() - t0
        where, fanout = _run_dask(job, todo, scheduler, workers, retries, finished, failed, log, bar)
    fanout = fanout or time.perf_counter() - t_fan
    rows = sorted(done.values(), key=lambda r: (r["bits"], r["id"]))
    front = pareto(rows)
    res = SweepResult(rows, failed, computed, front, time.perf_counter() - start, where, compile_s,
                      fanout)
    res.written = write_summary(folder, job, res, max_loss_db)
    return res


def _attempts(job: Job, c: Config, retries: int) -> dict:
    for attempt in range(retries + 1):
        try:
            return evaluate_config(job, c)
        except Exception:  # noqa: BLE001
            if attempt == retries:
                raise
    raise AssertionError("unreachable")


def _bar(items: Any, show: bool, what: str, total: int | None = None):  # noqa: ANN202 - an iterable
    from tqdm import tqdm

    return tqdm(items, desc=what, unit="config", disable=not show, leave=False, total=total,
                dynamic_ncols=True, delay=0.5)


def _run_dask(job: Job, todo: list[Config], scheduler: str | None, workers: int | None,
              retries: int, finished: Callable, failed: list, log: Callable,
              bar: bool) -> tuple[str, float]:
    """Run the tasks on Dask; the cluster in words, and the seconds from the first task sent
    to the last result written."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise NetworkError("--workers/--scheduler", "", "needs dask.distributed (pip install "
                           "'hls-sim[dask]'), or use --serial") from None
    import uuid

    cluster = None
    if scheduler is None:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=":0", env=dict(WORKER_ENV))
        client = Client(cluster)
        where = f"a local Dask cluster of {n} worker process(es), one thread each"
        log(f"dask      {where}; dashboard {_dashboard(client)}")
    else:
        try:
            client = Client(scheduler, timeout=30)
        except (OSError, TimeoutError) as e:
            raise NetworkError(scheduler, "--scheduler", f"cannot connect: {e}") from None
        n = len(client.scheduler_info().get("workers", {}))
        where = f"the Dask cluster at {scheduler} ({n} worker(s))"
        log(f"dask      {where}; dashboard {_dashboard(client)}")
    try:
        run = uuid.uuid4().hex[:8]
        sent = time.perf_counter()
        futures = {client.submit(evaluate_config, job, c, key=f"hls-sim-sweep-{c.id}-{run}",
                                 retries=retries, pure=False): c for c in todo}
        for fut in _bar(as_completed(list(futures)), bar, "configurations", len(futures)):
            c = futures[fut]
            if fut.status == "finished":
                finished(c, fut.result())
            else:
                try:
                    err = fut.exception()
                except Exception as e:  # noqa: BLE001 - a cancelled future raises
                    err = e
                failed.append({"id": c.id, "settings": c.settings,
                               "error": f"{type(err).__name__}: {err}"})
            fut.release()
        elapsed = time.perf_counter() - sent
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return where, elapsed


def _dashboard(client: Any) -> str:
    try:
        import bokeh  # noqa: F401 - the dashboard needs it
    except ImportError:
        return "not served (pip install bokeh)"
    return str(client.dashboard_link)


# ---- the front and the choice ----------------------------------------------------------------------
def _sq(v: float | None) -> float:
    return float("inf") if v is None else float(v)


def pareto(rows: list[dict]) -> list[str]:
    """The ids on the Pareto front of (fewer bits, higher SQNR): no other configuration has
    as few bits or fewer and a higher SQNR, or fewer bits and the same."""
    best = -float("inf")
    out = []
    for r in sorted(rows, key=lambda r: (r["bits"], -_sq(r["sqnr_db"]), r["id"])):
        if _sq(r["sqnr_db"]) > best:
            out.append(r["id"])
            best = _sq(r["sqnr_db"])
    return out


def loss_db(row: dict, base: dict | None) -> float | None:
    """The SQNR lost against the network as written (dB; 0 when both are exact)."""
    if base is None:
        return None
    b, v = _sq(base["sqnr_db"]), _sq(row["sqnr_db"])
    if b == v:
        return 0.0
    return b - v


def choose(rows: list[dict], max_loss_db: float) -> dict | None:
    """The narrowest configuration (fewest bits; then the highest SQNR) whose SQNR is at most
    ``max_loss_db`` below the network as written."""
    base = next((r for r in rows if r.get("baseline")), None)
    ok = [r for r in rows if base is not None and loss_db(r, base) <= max_loss_db]
    return min(ok, key=lambda r: (r["bits"], -_sq(r["sqnr_db"]), r["id"])) if ok else None


# ---- writing ------------------------------------------------------------------------------------------
def _table_rows(rows: list[dict], front: list[str]) -> tuple[list[str], list[dict]]:
    labels = list(dict.fromkeys(k for r in rows for k in r["settings"]))
    base = next((r for r in rows if r.get("baseline")), None)
    out = []
    for r in rows:
        d = {"id": r["id"], **{lab: r["settings"].get(lab, "") for lab in labels}, "bits": r["bits"],
             **{k: r.get(k) for k in METRICS}, "sqnr_loss_db": loss_db(r, base),
             "pareto": r["id"] in front, "baseline": bool(r.get("baseline"))}
        out.append(d)
    keys = ["id", *labels, "bits", *METRICS, "sqnr_loss_db", "pareto", "baseline"]
    return keys, out


def write_summary(folder: Path, job: Job, res: SweepResult, max_loss_db: float | None) -> list[Path]:
    """sweep.csv (the table), sweep.json (table, front, choice, failures) and sweep.png."""
    from hls_sim.evaluate import csv_bytes
    from hls_sim.files import write_files
    from hls_sim.report.network import _clean

    keys, table = _table_rows(res.rows, res.pareto)
    pick = choose(res.rows, max_loss_db) if max_loss_db is not None else None
    doc = {"schema": SCHEMA, "network": job.network, "data": job.data, "labels": job.labels,
           "configurations": table, "pareto": res.pareto,
           "max_sqnr_loss_db": max_loss_db, "choice": pick["id"] if pick else None,
           "failed": res.failed}
    payload = {"sweep.json": (json.dumps(_clean(doc), indent=1) + "\n").encode(),
               "sweep.csv": csv_bytes(table, keys)}
    if res.rows:
        payload["sweep.png"] = plot(res.rows, res.pareto, max_loss_db, pick)
    return write_files(folder, payload, _WriteError)


def plot(rows: list[dict], front: list[str], max_loss_db: float | None, pick: dict | None) -> bytes:
    """SQNR against the float network vs total bits; the front joined, the network as written
    and the choice marked (an exact configuration drawn at the top)."""
    from hls_sim.report import plots

    plt = plots._plt()
    finite = [r["sqnr_db"] for r in rows if r["sqnr_db"] is not None]
    top = (max(finite) + 3) if finite else 60.0
    y = {r["id"]: top if r["sqnr_db"] is None else r["sqnr_db"] for r in rows}
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.scatter([r["bits"] for r in rows], [y[r["id"]] for r in rows], s=16, color="#999999",
               label="configuration")
    fr = [r for r in rows if r["id"] in front]
    ax.plot([r["bits"] for r in fr], [y[r["id"]] for r in fr], "o-", color=plots.C_DATAPATH,
            ms=5, label="Pareto front")
    base = next((r for r in rows if r.get("baseline")), None)
    if base is not None:
        ax.scatter([base["bits"]], [y[base["id"]]], marker="s", s=50, facecolors="none",
                   edgecolors=plots.C_IDEAL, label="as written")
        if max_loss_db is not None and base["sqnr_db"] is not None:
            ax.axhline(base["sqnr_db"] - max_loss_db, color=plots.C_QUANT, ls=":", lw=1,
                       label=f"{max_loss_db:g} dB below it")
    if pick is not None:
        ax.scatter([pick["bits"]], [y[pick["id"]]], marker="*", s=140, color=plots.C_QUANT,
                   label="narrowest within the bound")
    ax.set_xlabel("bits (sum of the varied types' widths)")
    ax.set_ylabel("output SQNR vs float (dB)")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    fig.tight_layout()
    return plots.png_bytes(fig)


def table_text(res: SweepResult, max_loss_db: float | None) -> str:
    """The terminal table, one row per configuration, and the choice."""
    from hls_sim.evaluate import text_table

    keys, table = _table_rows(res.rows, res.pareto)
    labels = keys[1:keys.index("bits")]
    head = ("", "id", *labels, "bits", "SQNR dB", "loss dB", "worst img dB", "RMSE LSB", "overflow",
            "arg-max %") + (("label %",) if any(r["label_acc"] is not None for r in table) else ())
    body = []
    for r in table:
        body.append(("*" if r["pareto"] else "", r["id"] + (" (as written)" if r["baseline"] else ""),
                     *[r[lab] for lab in labels], str(r["bits"]), _f(r["sqnr_db"], "exact"),
                     _f(r["sqnr_loss_db"]), _f(r["sqnr_db_min"], "exact"), _f(r["rmse_lsb"], "", ".3g"),
                     str(r["overflow"]), f"{100 * r['argmax_agree']:.2f}")
                    + ((_f(None if r["label_acc"] is None else 100 * r["label_acc"]),)
                       if len(head) > 11 + len(labels) else ()))
    lines = text_table([head] + body)
    lines.append("          *: on the Pareto front (no configuration with as few bits has a higher "
                 "SQNR); loss: SQNR below the network as written")
    if max_loss_db is not None:
        pick = choose(res.rows, max_loss_db)
        lines.append(f"choice    within {max_loss_db:g} dB of the network as written: "
                     + (f"{pick['id']} ({', '.join(f'{k}={v}' for k, v in pick['settings'].items())}"
                        f"), {pick['bits']} bits, SQNR {_f(pick['sqnr_db'], 'exact')} dB"
                        if pick else "none of the configurations"))
    for f in res.failed:
        lines.append(f"FAILED    {f['id']} ({', '.join(f'{k}={v}' for k, v in f['settings'].items())}): "
                     f"{f['error']}")
    return "\n".join(lines)


def _f(v: float | None, none: str = "-", spec: str = ".2f") -> str:
    return none if v is None else format(v, spec)


__all__ = ["Axis", "Config", "Job", "SweepResult", "choose", "evaluate_config", "grid", "pareto",
           "parse_vary", "prepared_network", "read_config_list", "run_sweep", "table_text"]
