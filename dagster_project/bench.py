"""`make bench [SCALE=10]`: time the nightly job on a generated delivery, against a floor.

Generates the delivery into a temporary folder, runs `kaohe run` on it in a child process
(wall time and peak memory of that process), prints the rows per table, and separately the
time DuckDB alone needs to read the same CSV files (the floor no pipeline can beat).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from dagster_project.contracts import load_contracts
from dagster_project.synthetic.generator import generate
from dagster_project.synthetic.writer import write_delivery


def _child(args: list[str]) -> tuple[float, float, int]:
    """Run a command; wall seconds, peak RSS of the child in MiB, exit code."""
    started = time.perf_counter()
    done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr)
    return seconds, peak, done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=20231231)
    parser.add_argument("--as-of", default="2024-01-31")
    args = parser.parse_args(argv)
    kaohe = str(Path(sys.executable).with_name("kaohe"))
    with tempfile.TemporaryDirectory(prefix="kaohe-bench-") as tmp:
        delivery, warehouse = Path(tmp) / "delivery", Path(tmp) / "warehouse" / "kaohe.duckdb"
        started = time.perf_counter()  # in this process, so the children's peak memory is the run's alone
        write_delivery(generate(scale=args.scale, seed=args.seed), delivery)
        gen_s = time.perf_counter() - started
        run_s, run_mb, code = _child(
            [kaohe, "run", "--sources", str(delivery), "--warehouse", str(warehouse), "--as-of", args.as_of]
        )
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
    print(f"  kaohe run         {run_s:8.1f} s   peak memory {run_mb:,.0f} MiB (largest process)   exit code {code}")
    print(f"  DuckDB read floor {floor_s:8.1f} s   (read_csv of the same 14 files)")
    print(f"  warehouse file    {size_mb:8.1f} MiB")
    print(f"  {'table':<26}{'rows':>12}{'quarantined':>13}")
    for table, read, rejected in rows:
        print(f"  {table:<26}{read:>12,}{rejected:>13,}")
    print(f"  {'total':<26}{sum(r[1] for r in rows):>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
