"""`make bench [SCALE=10]`: time the nightly job on a generated delivery, against a floor.

Generates the delivery into a temporary folder and runs `kaohe run` in child processes (wall
time and peak memory): once on the six-unit sample (the fixed start-up cost), once on the
delivery, and once more on the same, unchanged delivery (target: ≤ 10 s, nothing published).
It prints the time of each step of the run, the rows per table, the time DuckDB alone needs to
read the same CSV files (the floor no pipeline can beat) and the ratios of issue 10's targets.
The data are synthetic: the runs use the demo key of the personal-data hash.
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
from pathlib import Path

import duckdb

from dagster_project.core.settings import PROJECT_ROOT
from dagster_project.ingest.contracts import load_contracts
from dagster_project.synthetic.generator import generate
from dagster_project.synthetic.writer import write_delivery

SAMPLE = PROJECT_ROOT / "sources" / "sample"


PANDAS_REFERENCE_SECONDS = 20.0  # issue 10: a plain pandas script scoring a 6,000-unit delivery


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
    """Samples the resident memory of a process and all its descendants (dbt runs as a child of
    kaohe) a few times a second: the peak of their sum, and the peak of each command. Linux only (/proc);
    elsewhere the peaks stay 0 and only the largest process (getrusage) is reported."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.total, self.by_command = pid, 0.0, {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2) and os.path.isdir("/proc"):
            sizes = {p: _rss_mib(p) for p in _descendants(self.pid)}
            self.total = max(self.total, sum(sizes.values()))
            for p, size in sizes.items():
                name = "dbt" if _is_dbt(p) else "kaohe" if p == self.pid else "other"
                self.by_command[name] = max(self.by_command.get(name, 0.0), size)


def _is_dbt(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return any(part.endswith(b"/dbt") or part == b"dbt" for part in cmdline.read().split(b"\0")[:3])
    except OSError:
        return False


def _child(args: list[str]) -> tuple[float, float, int, str]:
    """Run a command; wall seconds, peak RSS of the largest child so far in MiB, exit code,
    and its 'time per step' line (with the memory peaks of kaohe, dbt and their sum)."""
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=20231231)
    parser.add_argument("--as-of", default="2024-01-31")
    args = parser.parse_args(argv)
    kaohe = str(Path(sys.executable).with_name("kaohe"))
    with tempfile.TemporaryDirectory(prefix="kaohe-bench-") as tmp:
        delivery, warehouse = Path(tmp) / "delivery", Path(tmp) / "warehouse" / "kaohe.duckdb"

        def run(sources: Path, target: Path) -> tuple[float, float, int, str]:
            return _child(
                [kaohe, "run", "--demo-key", "--sources", str(sources), "--warehouse", str(target),
                 "--publish", str(target.parent / "published"), "--as-of", args.as_of]
            )  # fmt: skip

        started = time.perf_counter()  # in this process, so the children's peak memory is the runs' alone
        write_delivery(generate(scale=args.scale, seed=args.seed), delivery)
        gen_s = time.perf_counter() - started
        startup_s, _, startup_code, _ = run(SAMPLE, Path(tmp) / "sample" / "kaohe.duckdb")
        run_s, run_mb, code, steps = run(delivery, warehouse)
        again_s, _, again_code, again_steps = run(delivery, warehouse)
        con = duckdb.connect()
        floor_started = time.perf_counter()
        for contract in load_contracts().values():
            path = delivery / contract.system / f"{contract.table}.csv"
            con.execute(f"select count(*) from read_csv('{path}', all_varchar = true, header = true)").fetchall()
        floor_s = time.perf_counter() - floor_started
        con.close()
        con = duckdb.connect(str(warehouse), read_only=True)
        rows = con.execute(
            "select l.table_name, l.rows_read, l.rows_rejected from raw.current_loads c "
            "join raw.loads l using (load_id) order by l.table_name"
        ).fetchall()
        size_mb = warehouse.stat().st_size / 2**20
        con.close()
    print(f"kaohe bench — scale {args.scale:g}, seed {args.seed}, as of {args.as_of}")
    print(f"  generate          {gen_s:8.1f} s")
    print(f"  start-up          {startup_s:8.1f} s   (kaohe run on the six-unit sample, exit code {startup_code})")
    print(f"  kaohe run         {run_s:8.1f} s   peak memory {run_mb:,.0f} MiB (largest process)   exit code {code}")
    print(f"    per step        {steps}")
    print(f"  unchanged rerun   {again_s:8.1f} s   (the same delivery again, exit code {again_code})")
    print(f"    per step        {again_steps}")
    print(f"  DuckDB read floor {floor_s:8.1f} s   (read_csv of the same 14 files)")
    print(f"  (run − start-up) / floor {(run_s - startup_s) / floor_s:6.1f}×   (target ≤ 3)")
    print(f"  run / pandas reference   {run_s / PANDAS_REFERENCE_SECONDS:6.2f}×   (target < 1)")
    print(f"  warehouse file    {size_mb:8.1f} MiB")
    print(f"  {'table':<26}{'rows':>12}{'quarantined':>13}")
    for table, read, rejected in rows:
        print(f"  {table:<26}{read:>12,}{rejected:>13,}")
    print(f"  {'total':<26}{sum(r[1] for r in rows):>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
