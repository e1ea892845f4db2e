"""A bit-width sweep of the example network on Dask: 8 configurations (head.acc_t
ap_int<12..18> and the network as written; 3 with --quick) on the bundled dataset
weights/encdec_data.npy.

- scaling: the fan-out (first task sent to last result written) on a LocalCluster of one
  worker process against one of two (one thread each); target: two at least 1.7x one.
- overhead: with one worker, its idle time between one task's end and the next one's start
  (each task records its span on the worker: Dask dispatching it, serializing the previous
  result), per task, against the mean task; target under 5% (the row's ratio is the task
  over the overhead, target 20). The fan-out's fixed cost (the first task's dispatch, the last
  result's return, once per sweep) is shown beside it, not spread over the tasks.

Both clusters are started, their workers given the network, the data, the float outputs
and every configuration's kernels (what a worker's first task would load), before the timed
sweep, so that the times are the tasks' and Dask's, not the start-up's. The kernels are
compiled in this process first (hls_sim.sweep's rule).
"""

from __future__ import annotations

import tempfile

from benchmarks.common import REPO, Row

NET = REPO / "weights" / "encdec.yaml"
DATA = REPO / "weights" / "encdec_data.npy"
VARY = "head.acc_t=ap_int<12..18>"
QUICK_VARY = "head.acc_t=ap_int<12>,ap_int<18>"  # --quick: 3 configurations, as tests/test_sweep.py's


def _timed(job, configs, workers: int) -> tuple[float, list[float], list[dict]]:  # noqa: ANN001
    from distributed import Client, LocalCluster

    from hls_sim import sweep

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, env=dict(sweep.WORKER_ENV)) as cluster, \
            Client(cluster) as client:
        client.run(sweep._prepared, job, True)
        for c in configs:
            client.run(sweep.compile_config, job, c)
        with tempfile.TemporaryDirectory() as d:
            res = sweep.run_sweep(job, configs, d, scheduler=cluster.scheduler_address, bar=False)
        assert not res.failed, res.failed
        return res.fanout_seconds, [r["seconds"] for r in res.rows], res.rows


def run(quick: bool) -> list[Row]:
    from hls_sim import sweep

    job = sweep.Job(str(NET), str(DATA))
    net = sweep.prepared_network(job)
    configs = sweep.grid(net, [sweep.parse_vary(QUICK_VARY if quick else VARY, net)])
    for c in configs:  # compiled here, once, before any worker starts
        sweep.compile_config(job, c)
    one, tasks, rows1 = _timed(job, configs, 1)
    two, _, rows2 = _timed(job, configs, 2)
    same = ([{k: v for k, v in r.items() if k not in sweep.VOLATILE} for r in rows1]
            == [{k: v for k, v in r.items() if k not in sweep.VOLATILE} for r in rows2])
    mean_task = sum(tasks) / len(tasks)
    # per task: the one worker's idle time between the end of a task and the start of the
    # next (Dask handing it the next task, the result's serialization); the fan-out's fixed
    # start and end latency, once per sweep, is reported beside it
    spans = sorted(r["span"] for r in rows1)
    gaps = [b[0] - a[1] for a, b in zip(spans, spans[1:])]
    overhead = max(sum(gaps) / len(gaps), 1e-9)
    fixed = one - sum(tasks) - sum(gaps)
    n_img = net.images.shape[0]
    return [
        Row("sweep 2 workers", f"{len(configs)} configurations x {n_img} images, fan-out on 2 worker processes",
            two, "1 worker", one, identical=same, check="rows of 1 and 2 workers", target=1.7,
            extra={"mean_task_s": mean_task}),
        Row("sweep overhead", f"per-task Dask overhead (1 worker: idle between tasks; once per sweep "
                              f"{fixed * 1e3:.0f} ms to start and finish the fan-out)",
            overhead, "mean task", mean_task, target=20.0,
            extra={"overhead_pct": 100 * overhead / mean_task, "fixed_latency_s": fixed,
                   "fanout_minus_tasks_per_task_s": (one - sum(tasks)) / len(tasks)}),
    ]
