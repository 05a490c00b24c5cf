"""`make bench`: every measurement side by side in one run; prints a table, writes docs/performance.md."""

from __future__ import annotations

import argparse
import sys

from bench import cold, dpop, jwks_traffic, key_parsing, report, warm
from bench.scenario import Scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        choices=["warm", "cold", "floor", "jwks", "keys", "dpop"],
        help="run one part, write no docs (floor: only rows A, B and C of the cold start)",
    )
    parser.add_argument("--rounds", type=int, default=9, help="warm rounds (median taken)")
    parser.add_argument("--cold-runs", type=int, default=11, help="fresh processes per artifact")
    arguments = parser.parse_args(argv)
    parts = {arguments.only} if arguments.only else {"warm", "cold", "jwks", "keys", "dpop"}
    results = report.Results()
    scenario = Scenario.start()
    try:
        # Warm first: the cold-start builds and processes are the busiest part of the run.
        if "warm" in parts:
            results.warm = warm.measure(scenario, rounds=arguments.rounds)
        if "dpop" in parts:
            results.dpop = dpop.measure(scenario, rounds=arguments.rounds)
        if "jwks" in parts:
            results.jwks = jwks_traffic.measure()
        if "keys" in parts:
            results.keys = key_parsing.measure()
        if parts & {"cold", "floor"}:
            results.cold = cold.measure(scenario, runs=arguments.cold_runs, floor_only="cold" not in parts)
    finally:
        scenario.stop()
    print(report.table(results))
    if arguments.only is None:
        path = report.write_docs(results)
        print(f"\nwrote {path}")
    return 0 if results.targets_met() else 1


if __name__ == "__main__":
    sys.exit(main())
