#!/usr/bin/env python3
"""Prints bench/run.sh's summary table from its results file (server, test, JSON, command)."""
import json
import sys


def load(path):
    results = {}
    with open(path) as f:
        for line in f:
            server, test, blob, _cmd = line.rstrip("\n").split("\t", 3)
            try:
                results[(server, test)] = json.loads(blob)
            except ValueError:
                results[(server, test)] = {}
    return results


def main():
    r = load(sys.argv[1])

    def get(server, test, field):
        v = r.get((server, test), {}).get(field)
        return v if isinstance(v, (int, float)) else None

    def fmt(v, digits=0):
        if v is None:
            return "-"
        return f"{v:,.{digits}f}"

    def ratio(a, b):
        return a / b if a is not None and b else None

    rows = []  # (metric, durable, dev, etcd, durable/etcd, dev/etcd, target, verdict)

    def kv(metric, test, field, etcd_test, digits, target=None, check=None, ratios=True,
           floor=None):
        d, v, e = get("trellis-durable", test, field), get("trellis-dev", test, field), \
            get("etcd", etcd_test, field)
        if floor is not None:
            d, v, e = (max(floor, x) if x is not None else None for x in (d, v, e))
        rd, rv = (ratio(d, e), ratio(v, e)) if ratios else (None, None)
        verdict = "" if check is None or rd is None else ("PASS" if check(rd) else "MISS")
        rows.append((metric, fmt(d, digits), fmt(v, digits), fmt(e, digits),
                     fmt(rd, 2) + "x" if rd else "-", fmt(rv, 2) + "x" if rv else "-",
                     target or "", verdict))

    kv("KV PUT req/s", "put", "rps", "put", 0, ">= 1.0x etcd", lambda x: x >= 1.0)
    kv("KV PUT p50 ms", "put", "p50_ms", "put", 3)
    kv("KV PUT p99 ms", "put", "p99_ms", "put", 3)
    kv("KV GET req/s", "get", "rps", "get", 0, ">= 1.5x etcd", lambda x: x >= 1.5)
    kv("KV GET p50 ms", "get", "p50_ms", "get", 3)
    kv("KV GET p99 ms", "get", "p99_ms", "get", 3)
    kv("KV PUT server CPU cores", "put", "server_cores", "put", 2, ratios=False)
    kv("KV GET server CPU cores", "get", "server_cores", "get", 2, ratios=False)
    # Other processes' CPU during the run; small negatives are tick-accounting jitter.
    kv("KV PUT other CPU cores (noise)", "put", "other_cores", "put", 2, ratios=False, floor=0)
    kv("KV GET other CPU cores (noise)", "get", "other_cores", "get", 2, ratios=False, floor=0)
    kv("KV GET req/s vs etcd serializable", "get", "rps", "get-serializable", 0)
    kv("KV GET p99 ms vs etcd serializable", "get", "p99_ms", "get-serializable", 3)

    def solo(metric, test, field, digits, target=None, check=None, scale=1.0):
        d, v = get("trellis-durable", test, field), get("trellis-dev", test, field)
        d = d * scale if d is not None else None
        v = v * scale if v is not None else None
        verdicts = [check(x) for x in (d, v) if x is not None] if check else []
        verdict = ("PASS" if all(verdicts) else "MISS") if verdicts else ""
        rows.append((metric, fmt(d, digits), fmt(v, digits), "-", "-", "-", target or "", verdict))

    solo("register req/s", "register", "rps", 0)
    solo("register p99 ms", "register", "p99_ms", 3)
    solo("health/service req/s", "health", "rps", 0)
    solo("health/service p99 ms", "health", "p99_ms", 3)
    solo("health/service server CPU cores", "health", "server_cores", 2)
    solo("fan-out: all returned ms", "fanout", "all_returned_ms", 1, "< 1000 ms",
         lambda x: 0 <= x < 1000)
    solo("fan-out: p50 returned ms", "fanout", "p50_ms", 1)
    solo("fan-out: KiB per parked watcher", "fanout", "kib_per_watcher", 2, "< 20 KiB",
         lambda x: x < 20)
    idle, eidle = get("trellis-dev", "idle-rss", "rss_kib"), get("etcd", "idle-rss", "rss_kib")
    idle_mib = idle / 1024 if idle is not None else None
    eidle_mib = eidle / 1024 if eidle is not None else None
    rows.append(("idle RSS MiB (fresh process)", "-", fmt(idle_mib, 1), fmt(eidle_mib, 1), "-",
                 fmt(ratio(idle_mib, eidle_mib), 2) + "x" if idle_mib and eidle_mib else "-",
                 "dev < 30 MiB",
                 "" if idle_mib is None else ("PASS" if idle_mib < 30 else "MISS")))

    head = ("metric", "trellis durable", "trellis dev", "etcd", "durable/etcd", "dev/etcd",
            "target", "")
    widths = [max(len(str(x[i])) for x in rows + [head]) for i in range(len(head))]
    print()
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        cells = [str(c).ljust(w) if i == 0 else str(c).rjust(w)
                 for i, (c, w) in enumerate(zip(row, widths))]
        print("| " + " | ".join(cells) + " |")
    errors = [(s, t) for (s, t), j in r.items() if j.get("errors") or j == {}]
    if errors:
        print("\nruns with errors or no result: " + ", ".join(f"{s} {t}" for s, t in errors))


if __name__ == "__main__":
    main()
