#!/usr/bin/env python3
"""Markdown tables for bench/proxy/run.sh from its runs directory.

  table.py RUNS_DIR ROUNDS NOTES

Files: <row>.idle (procstat snap after start-up) and <row>.<round>.<workload>.{out,before,after,
peak} for workloads small, large, close (wrk output) and rate (ratebench JSON). Ratios are taken
within a round (the same minute on the same machine) and then the median over rounds is shown;
requests/s, latencies and CPU are medians over rounds, memory under load the peak over the
throughput runs (the latency run has no sampler: reading smaps stalls the process).
"""
import json
import os
import re
import statistics
import sys

NAMES = {"a": "direct", "b": "trellis", "c": "haproxy", "d": "nginx stream", "e": "stunnel"}
PEERS = ("c", "d", "e")
WORKLOADS = ("small", "large", "close")


def read_json(path):
    try:
        with open(path) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None


def parse_wrk(text):
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    n = re.search(r"(\d+) requests in", text)
    if not m or not n:
        return None
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(non2xx.group(1)) if non2xx else 0
    return {"rps": float(m.group(1)), "requests": int(n.group(1)), "errors": errors}


def load(runs):
    """{(row, round, workload): result dict}, plus {row: idle snap}."""
    results, idle = {}, {}
    for name in os.listdir(runs):
        parts = name.split(".")
        if len(parts) == 2 and parts[1] == "idle":
            idle[parts[0]] = read_json(os.path.join(runs, name))
            continue
        if len(parts) != 4 or parts[3] != "out":
            continue
        row, rnd, workload = parts[0], int(parts[1]), parts[2]
        base = os.path.join(runs, f"{row}.{rnd}.{workload}")
        with open(base + ".out") as f:
            text = f.read()
        r = read_json(base + ".out") if workload == "rate" else parse_wrk(text)
        if r is None:
            continue
        if workload == "rate":
            r["requests"] = r["completed"]
        before, after, peak = (read_json(base + s) for s in (".before", ".after", ".peak"))
        if before and after and r["requests"] > 0:
            r["cpu_ms_per_1k"] = (after["cpu_ms"] - before["cpu_ms"]) / r["requests"] * 1000
        if peak:
            r["peak"] = peak
        results[(row, rnd, workload)] = r
    return results, idle


def fmt(v, digits=0, suffix=""):
    return "-" if v is None else f"{v:,.{digits}f}{suffix}"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main():
    runs, rounds = sys.argv[1], int(sys.argv[2])
    notes = [n for n in (sys.argv[3] if len(sys.argv) > 3 else "").split("\n") if n]
    results, idle = load(runs)
    rows = sorted({k[0] for k in results})

    def get(row, rnd, workload, key):
        r = results.get((row, rnd, workload))
        return None if r is None else r.get(key)

    def med(row, workload, key):
        return median(get(row, rnd, workload, key) for rnd in range(1, rounds + 1))

    def best_peer(rnd, workload):
        vals = [get(p, rnd, workload, "rps") for p in PEERS if p in rows]
        vals = [v for v in vals if v]
        return max(vals) if vals else None

    def ratio(row, workload, against):
        per_round = []
        for rnd in range(1, rounds + 1):
            a = get(row, rnd, workload, "rps")
            b = get("a", rnd, workload, "rps") if against == "direct" else best_peer(rnd, workload)
            per_round.append(a / b if a and b else None)
        return median(per_round)

    print(f"Medians of {rounds} rounds; ratios are per round (same minute), then the median.\n")
    print("| row | small keep-alive req/s | vs direct | vs best peer | 1 MiB req/s | vs direct "
          "| vs best peer | new conn/req req/s | vs direct | vs best peer |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in NAMES:
        cells = []
        for w in WORKLOADS:
            cells += [fmt(med(row, w, "rps")), fmt(ratio(row, w, "direct"), 2, "x"),
                      fmt(ratio(row, w, "peer"), 2, "x")]
        label = f"({row}) {NAMES[row]}" + ("" if row in rows else " (not run)")
        print(f"| {label} | " + " | ".join(cells) + " |")

    def added_p99(row):
        diffs = []
        for rnd in range(1, rounds + 1):
            x, d = get(row, rnd, "rate", "p99_ms"), get("a", rnd, "rate", "p99_ms")
            diffs.append(x - d if x is not None and d is not None else None)
        return median(diffs)

    def mib(kib):
        return None if kib is None else kib / 1024.0

    def peaks(row, key):
        return [r["peak"][key] for (rw, _, _), r in results.items()
                if rw == row and key in r.get("peak", {})]

    def peak_sum(row, key):
        return max(peaks(row, key), default=None)

    def peak_each(row):  # per proxy of the pair, over all runs
        return [max(col) for col in zip(*peaks(row, "peak_root_rss_kib"))]

    rate = median(r.get("rate") for (_, _, w), r in results.items() if w == "rate")
    print(f"\n| row | p50 ms @{fmt(rate)}/s | p99 ms | max ms "
          "| added p99 ms | RSS idle MiB (pair) | RSS load MiB (pair) | PSS load MiB (pair) "
          "| CPU ms/1k small | CPU ms/1k 1 MiB | CPU ms/1k new conn | CPU ms/1k @rate | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in NAMES:
        if row not in rows:
            print(f"| ({row}) {NAMES[row]} (not run) |" + " - |" * 12)
            continue
        snap = idle.get(row) or {}
        errors = sum((r.get("errors") or 0) + (r.get("unfinished") or 0)
                     for (rw, _, _), r in results.items() if rw == row)
        cells = [fmt(med(row, "rate", "p50_ms"), 3), fmt(med(row, "rate", "p99_ms"), 3),
                 fmt(med(row, "rate", "max_ms"), 3),
                 "-" if row == "a" else fmt(added_p99(row), 3),
                 fmt(mib(snap.get("rss_kib")), 1), fmt(mib(peak_sum(row, "peak_rss_kib")), 1),
                 fmt(mib(peak_sum(row, "peak_pss_kib")), 1)]
        cells += [fmt(med(row, w, "cpu_ms_per_1k"), 1) for w in WORKLOADS + ("rate",)]
        cells.append(str(errors))
        print(f"| ({row}) {NAMES[row]} | " + " | ".join(cells) + " |")

    if "b" in rows:
        print("\nTargets for (b), issue #5:")
        at_least = lambda bound: lambda v: v >= bound  # noqa: E731
        below = lambda bound: lambda v: v < bound  # noqa: E731
        idle_each = [mib(k) for k in (idle.get("b") or {}).get("root_rss_kib", [])]
        load_each = [mib(k) for k in peak_each("b")]
        checks = [
            ("small keep-alive >= 1.3x best peer", ratio("b", "small", "peer"), at_least(1.3)),
            ("1 MiB >= 1.3x best peer", ratio("b", "large", "peer"), at_least(1.3)),
            ("new connection per request >= 3x best peer", ratio("b", "close", "peer"),
             at_least(3.0)),
            ("added p99 at the fixed rate <= 1.0 ms", added_p99("b"), lambda v: v <= 1.0),
            ("RSS per sidecar idle < 10 MiB", max(idle_each, default=None), below(10.0)),
            ("RSS per sidecar under load < 20 MiB", max(load_each, default=None), below(20.0)),
        ]
        for label, value, check in checks:
            verdict = "no data" if value is None else ("PASS" if check(value) else "FAIL")
            print(f"- {label}: {fmt(value, 2)} {verdict}")
    if notes:
        print("\nNotes:")
        for n in notes:
            print(f"- {n}")


if __name__ == "__main__":
    main()
