"""`make bench [SCALES=1,10] [BENCH_100=1]`: time the nightly job against the DuckDB read floor.

For each scale it generates a delivery into a temporary folder and runs `kaohe run` in child
processes (wall time; peak memory of all processes together, sampled from /proc): once on the
six-unit sample (the fixed start-up cost), once on the delivery, and once more on the same,
unchanged delivery (nothing to publish). It prints the time of each step of the run, the rows
per table, the floor — DuckDB alone creating a table from every CSV of the delivery with
`read_csv(all_varchar = true)`, in one connection — and the ratios of issue 26's targets, then
writes docs/performance.md (a table and a plot of time and memory against scale, with an
estimate for ten times national size). The data are synthetic: the runs use the demo key.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dagster_project.core.settings import PROJECT_ROOT
from dagster_project.ingest.contracts import load_contracts
from dagster_project.synthetic.generator import generate
from dagster_project.synthetic.writer import write_delivery

SAMPLE = PROJECT_ROOT / "sources" / "sample"


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return next((int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:")), 0.0)
    except OSError:
        return 0.0


def _descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as stat:
                    parents.setdefault(int(stat.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo.extend(parents.get(tree[-1], []))
    return tree


class _TreeMemory(threading.Thread):
    """Samples the resident memory of a process and all its descendants (dbt runs inside kaohe's
    process; a child would count here) a few times a second: the peak of their sum, and the peak of
    kaohe's process and of the others. Linux only (/proc); elsewhere the peaks stay 0 and only the
    largest process (getrusage) is reported."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.total, self.by_command = pid, 0.0, {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2) and os.path.isdir("/proc"):
            sizes = {p: _rss_mib(p) for p in _descendants(self.pid)}
            self.total = max(self.total, sum(sizes.values()))
            for p, size in sizes.items():
                name = "kaohe" if p == self.pid else "other"
                self.by_command[name] = max(self.by_command.get(name, 0.0), size)


def _child(args: list[str]) -> tuple[float, float, int, str]:
    """Run a command; wall seconds, peak RSS of the largest child so far in MiB, exit code,
    and its 'time per step' line (with the memory peaks of kaohe, other processes and their sum)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "1000"}
    )
    sampler = _TreeMemory(process.pid)
    sampler.start()
    stdout, stderr = process.communicate()
    sampler.done.set()
    sampler.join()
    done = subprocess.CompletedProcess(args, process.returncode, stdout, stderr)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stdout[-2000:] + done.stderr[-2000:])
    steps = next((line for line in done.stdout.splitlines() if line.startswith("time per step:")), "")
    steps = steps.removeprefix("time per step: ")
    if "nothing new:" in done.stdout:
        steps += " — nothing new, nothing published"
    if sampler.total:
        steps += (
            "\n    memory peaks    "
            + ", ".join(f"{name} {size:,.0f} MiB" for name, size in sorted(sampler.by_command.items()))
            + f"; all processes together {sampler.total:,.0f} MiB"
        )
    return seconds, peak, done.returncode, steps


@dataclass
class Measure:
    scale: float
    rows: int
    files_mib: float
    startup_s: float
    run_s: float
    run_code: int
    steps: str
    peak_mib: float  # all processes together (the largest process where /proc is missing)
    again_s: float
    again_steps: str
    floor_s: float
    warehouse_mib: float
    tables: list[tuple[str, int, int]]

    @property
    def ratio(self) -> float:
        return (self.run_s - self.startup_s) / self.floor_s if self.floor_s else float("nan")


def read_floor(delivery: Path) -> float:
    """DuckDB alone: a table from every CSV of the delivery, every column as text, one connection."""
    con = duckdb.connect()
    try:
        started = time.perf_counter()
        for i, contract in enumerate(load_contracts().values()):
            path = delivery / contract.system / f"{contract.table}.csv"
            con.execute(f"create table t{i} as select * from read_csv('{path}', all_varchar = true, header = true)")
        return time.perf_counter() - started
    finally:
        con.close()


def measure(scale: float, seed: int, as_of: str, tmp: Path) -> Measure:
    kaohe = str(Path(sys.executable).with_name("kaohe"))
    folder = tmp / f"scale-{scale:g}"
    delivery, warehouse = folder / "delivery", folder / "warehouse" / "kaohe.duckdb"

    def run(sources: Path, target: Path) -> tuple[float, float, int, str]:
        return _child(
            [kaohe, "run", "--demo-key", "--sources", str(sources), "--warehouse", str(target),
             "--publish", str(target.parent / "published"), "--as-of", as_of]
        )  # fmt: skip

    write_delivery(generate(scale=scale, seed=seed), delivery)
    files_mib = sum(p.stat().st_size for p in delivery.rglob("*.csv")) / 2**20
    startup_s, _, _, _ = run(SAMPLE, folder / "sample" / "kaohe.duckdb")
    run_s, largest, code, steps, total = _run_with_total(run, delivery, warehouse)
    again_s, _, _, again_steps = run(delivery, warehouse)
    floor_s = read_floor(delivery)
    con = duckdb.connect(str(warehouse), read_only=True)
    tables = con.execute(
        "select l.table_name, l.rows_read, l.rows_rejected from raw.current_loads c "
        "join raw.loads l using (load_id) order by l.table_name"
    ).fetchall()
    con.close()
    return Measure(
        scale, sum(t[1] for t in tables), files_mib, startup_s, run_s, code, steps, total or largest, again_s,
        again_steps, floor_s, warehouse.stat().st_size / 2**20, tables,
    )  # fmt: skip


def _run_with_total(run, delivery: Path, warehouse: Path) -> tuple[float, float, int, str, float]:
    seconds, largest, code, steps = run(delivery, warehouse)
    total = 0.0
    if "all processes together" in steps:
        total = float(steps.rsplit("all processes together", 1)[1].split("MiB")[0].replace(",", ""))
    return seconds, largest, code, steps, total


def report(m: Measure) -> str:
    lines = [
        f"scale {m.scale:g}: {m.rows:,} rows, {m.files_mib:,.0f} MiB of CSV",
        f"  start-up          {m.startup_s:8.1f} s   (kaohe run on the six-unit sample, new warehouse; target ≤ 20 s)",
        f"  kaohe run         {m.run_s:8.1f} s   peak memory, all processes {m.peak_mib:,.0f} MiB   "
        f"exit code {m.run_code}",
        f"    per step        {m.steps}",
        f"  unchanged rerun   {m.again_s:8.1f} s   (target ≤ 10 s)",
        f"    per step        {m.again_steps}",
        f"  DuckDB read floor {m.floor_s:8.1f} s   "
        "(create table as select * from read_csv(all_varchar) of the 14 files)",
        f"  (run − start-up) / floor {m.ratio:6.1f}×   (target ≤ 8×)",
        f"  warehouse file    {m.warehouse_mib:8.1f} MiB",
        f"  {'table':<26}{'rows':>12}{'quarantined':>13}",
    ]
    lines += [f"  {table:<26}{read:>12,}{rejected:>13,}" for table, read, rejected in m.tables]
    return "\n".join(lines)


def _svg(measures: list[Measure]) -> str:
    """Time and peak memory against scale (log–log), drawn by hand: no plotting dependency."""
    import math

    width, height, left, bottom, top, right = 640, 320, 60, 40, 20, 60
    scales = [m.scale for m in measures]
    xs = [math.log10(s) for s in scales]
    x0, x1 = min(xs) - 0.2, max(xs) + 0.2

    def x(v: float) -> float:
        return left + (math.log10(v) - x0) / (x1 - x0) * (width - left - right)

    def axis(values: list[float]) -> tuple[float, float]:
        logs = [math.log10(max(v, 1e-3)) for v in values]
        return min(logs) - 0.2, max(logs) + 0.2

    def y(v: float, lo: float, hi: float) -> float:
        return top + (1 - (math.log10(max(v, 1e-3)) - lo) / (hi - lo)) * (height - top - bottom)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
    ]
    for s in scales:
        parts.append(f'<text x="{x(s):.0f}" y="{height - bottom + 16}" text-anchor="middle">scale {s:g}</text>')
    for label, values, colour, side in (
        ("run time (s)", [m.run_s for m in measures], "#1f77b4", left),
        ("peak memory (MiB)", [m.peak_mib for m in measures], "#d62728", width - right),
    ):
        lo, hi = axis(values)
        points = " ".join(f"{x(s):.1f},{y(v, lo, hi):.1f}" for s, v in zip(scales, values, strict=True))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for s, v in zip(scales, values, strict=True):
            parts.append(f'<circle cx="{x(s):.1f}" cy="{y(v, lo, hi):.1f}" r="3" fill="{colour}"/>')
            parts.append(f'<text x="{x(s) + 6:.1f}" y="{y(v, lo, hi) - 6:.1f}" fill="{colour}">{v:,.0f}</text>')
        anchor = "start" if side == left else "end"
        parts.append(f'<text x="{side}" y="{top - 6}" fill="{colour}" text-anchor="{anchor}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


HEADER = (
    "| scale | rows | CSV (MiB) | start-up (s) | run (s) | DuckDB read floor (s) | (run − start-up) / floor "
    "| unchanged rerun (s) | peak memory, all processes (MiB) |"
)


def write_performance_doc(measures: list[Measure], docs: Path, machine: str) -> Path:
    """docs/performance.md and its plot, from this bench's measurements."""
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "performance.svg").write_text(_svg(measures), encoding="utf-8")
    rows = "\n".join(
        f"| {m.scale:g} | {m.rows:,} | {m.files_mib:,.0f} | {m.startup_s:.1f} | {m.run_s:.1f} | {m.floor_s:.2f} | "
        f"{m.ratio:.1f}× | {m.again_s:.1f} | {m.peak_mib:,.0f} |"
        for m in measures
    )
    largest = max(measures, key=lambda m: m.scale)
    smallest = min(measures, key=lambda m: m.scale)
    national = largest.rows * (100 / largest.scale)
    ten_national = 10 * national
    if largest.rows > smallest.rows:  # the growth between two scales: fixed costs left out
        span = largest.rows - smallest.rows
        per_row_s = (largest.run_s - smallest.run_s) / span
        per_row_mib = (largest.peak_mib - smallest.peak_mib) / span
    else:
        per_row_s = (largest.run_s - largest.startup_s) / max(largest.rows, 1)
        per_row_mib = largest.peak_mib / max(largest.rows, 1)
    run_estimate = largest.run_s + per_row_s * (ten_national - largest.rows)
    memory_estimate = largest.peak_mib + per_row_mib * (ten_national - largest.rows)
    text = f"""# Performance

Written by `make bench` ({machine}); the numbers are this machine's, measured by the bench, and
change with it. Run it again on an idle machine before quoting them.

{HEADER}
|---|---|---|---|---|---|---|---|---|
{rows}

![Run time and peak memory against scale](performance.svg)

Targets (issue 26): start-up ≤ 20 s; (run − start-up) / floor ≤ 8× at scale 10 and 100; peak
memory ≤ 4 GiB at scale 100; an unchanged delivery again ≤ 10 s.

## Ten times national size, on paper

Scale 100 is national size (docs/architecture.md, Scale). Between the scales measured here
({smallest.scale:g} and {largest.scale:g}) a run grew by {per_row_s * 1e6:.1f} s and
{per_row_mib * 1e6:.0f} MiB of peak memory per million rows. Ten times national size is about
{ten_national:,.0f} rows; if both kept growing so, one run would take about
{run_estimate:,.0f} s and {memory_estimate / 1024:,.1f} GiB.

Where one machine stops: the work proportional to the data is DuckDB's (reading, checking and
the dbt models' SQL), which spills to disk past its memory limit, so a single machine slows down
rather than fails; what does not spill is a table's scan in the quality gate (pandas frames of
marts) and the publication copy (the whole warehouse file is rewritten). Past a few hundred
million rows the warehouse file, its copy for publishing and the nightly window are the limits.
Then the same dbt models (portable SQL, no DuckDB-only functions in the marts) run on a
distributed engine through a second dbt target (for example Spark or Trino over Parquet files
in object storage), ingestion writes Parquet per system in parallel, and Dagster's executors run
the systems' loads on several machines; the contracts and the generated SQL stay as they are.
"""
    path = docs / "performance.md"
    path.write_text(text, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10", help="comma-separated scales (default 1,10)")
    parser.add_argument("--with-100", action="store_true", help="also scale 100 (national size: long, ~5 GiB)")
    parser.add_argument("--seed", type=int, default=20231231)
    parser.add_argument("--as-of", default="2024-01-31")
    parser.add_argument("--docs", type=Path, default=PROJECT_ROOT / "docs", help="where performance.md goes")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args(argv)
    scales = [float(s) for s in args.scales.split(",") if s.strip()] + ([100.0] if args.with_100 else [])
    measures = []
    with tempfile.TemporaryDirectory(prefix="kaohe-bench-") as tmp:
        for scale in scales:
            m = measure(scale, args.seed, args.as_of, Path(tmp))
            print(report(m), flush=True)
            measures.append(m)
    if not args.no_doc:
        machine = f"{os.cpu_count()} cores, {_memory_gib():.0f} GiB, load average {os.getloadavg()[0]:.1f} at the end"
        print(f"wrote {write_performance_doc(measures, args.docs, machine)}")
    return 0


def _memory_gib() -> float:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            return int(meminfo.readline().split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


if __name__ == "__main__":
    sys.exit(main())
