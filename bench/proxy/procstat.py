#!/usr/bin/env python3
"""Resident memory and CPU time of process trees, for bench/proxy/run.sh.

  procstat.py snap PID...          one JSON line: rss_kib, pss_kib, cpu_ms, procs, root_rss_kib
  procstat.py peak SECONDS PID...  samples every 0.2 s until SIGTERM or SECONDS have passed,
                                   then prints one JSON line: peak_rss_kib, peak_pss_kib,
                                   peak_root_rss_kib, samples
  procstat.py tree PID...          the PIDs and all their descendants, one line

Each PID counts with all its descendants (nginx's workers, a launcher's child), found again at
every sample. RSS counts pages shared between a master and its workers once per process, as the
kernel reports it; PSS splits them, so it is the fairer sum for multi-process proxies.
"""
import json
import os
import signal
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def children_map():
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(name))
    return kids


def tree(roots):
    kids = children_map()
    seen, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.append(pid)
        todo.extend(kids.get(pid, []))
    return seen


def status_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, all threads


def rss_kib(pids):
    return sum(status_kib(p, "VmRSS") for p in pids)


def snap(roots):
    pids = tree(roots)
    return {
        "rss_kib": rss_kib(pids),
        "pss_kib": sum(pss_kib(p) for p in pids),
        "cpu_ms": sum(cpu_ticks(p) for p in pids) * 1000.0 / TICKS,
        "procs": len(pids),
        "root_rss_kib": [rss_kib(tree([r])) for r in roots],  # each proxy of the pair
    }


def peak(seconds, roots):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    best_rss = best_pss = samples = 0
    best_root = [0] * len(roots)
    end = time.monotonic() + seconds
    while not stop and time.monotonic() < end:
        per_root = [tree([r]) for r in roots]
        best_root = [max(b, rss_kib(p)) for b, p in zip(best_root, per_root)]
        pids = [p for group in per_root for p in group]
        best_rss = max(best_rss, rss_kib(pids))
        best_pss = max(best_pss, sum(pss_kib(p) for p in pids))
        samples += 1
        time.sleep(0.2)
    return {"peak_rss_kib": best_rss, "peak_pss_kib": best_pss, "peak_root_rss_kib": best_root,
            "samples": samples}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("snap", "peak", "tree"):
        sys.exit(__doc__)
    if sys.argv[1] == "tree":
        print(" ".join(str(p) for p in tree([int(p) for p in sys.argv[2:]])))
    elif sys.argv[1] == "snap":
        print(json.dumps(snap([int(p) for p in sys.argv[2:]])))
    else:
        print(json.dumps(peak(float(sys.argv[2]), [int(p) for p in sys.argv[3:]])))


if __name__ == "__main__":
    main()
