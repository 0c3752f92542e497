#!/usr/bin/env python3
"""genscenarios.py writes Social Network simulator datasets for training and
evaluating the predictor: one `seer sim` run per scenario, each with its own
seed, load pattern and 0-2 faults of random kind, service, start, ramp,
duration and magnitude (mild ones that cause no violation included, so the
false-positive rate is measured). The same --seed gives the same commands.

Usage: genscenarios.py --seer BIN --out DIR --seed S --count N [--duration 150]
                       [--qos-min-requests 500]
Train and held-out sets use disjoint seeds (e.g. --seed 1000 / --seed 9000).
--qos-min-requests is passed to `seer sim` (sim/SCENARIO.md, QoS labels): a
p99 over at least that many requests (0: over the 1 s window alone, where
compose-post's p99 is its 2nd or 3rd slowest request and noise alone
crosses its target).
"""
import argparse, os, random, subprocess, sys

APP = ["compose-post-service", "text-service", "url-shorten-service", "user-mention-service",
       "user-service", "media-service", "unique-id-service", "post-storage-service",
       "user-timeline-service", "home-timeline-service", "social-graph-service"]
CACHE = ["post-storage-memcached", "user-memcached", "home-timeline-redis",
         "user-timeline-redis", "social-graph-redis"]
STORAGE = ["post-storage-mongodb", "user-mongodb", "user-timeline-mongodb",
           "social-graph-mongodb", "url-shorten-mongodb", "media-mongodb"]

def fault(r, start):
    kind = r.choices(["cpu", "memory", "disk", "network_delay", "blocking", "cache_failure",
                      "load_surge", "network_loss"], [4, 2, 2, 2, 2, 2, 1, 1])[0]
    if kind in ("cpu", "memory"):
        svc, mag = r.choice(APP + CACHE + STORAGE + ["nginx"]), r.uniform(0.5, 6)
    elif kind == "disk":
        svc, mag = r.choice(STORAGE), r.uniform(0.5, 6)
    elif kind == "network_delay":
        svc, mag = r.choice(APP + CACHE + STORAGE), r.uniform(0.5e6, 20e6)
    elif kind == "blocking":
        svc, mag = r.choice(APP + CACHE + STORAGE), r.uniform(0.5, 0.99)
    elif kind == "cache_failure":
        svc, mag = r.choice(CACHE), r.uniform(0.3, 1.0)
    elif kind == "network_loss":
        svc, mag = r.choice(APP + CACHE + STORAGE), r.uniform(0.005, 0.05)
    else:
        svc, mag = "", r.uniform(0.3, 1.5)
    ramp, dur = r.uniform(2, 15), r.uniform(10, 30)
    s = f"kind={kind},start={start:.1f}s,ramp={ramp:.1f}s,duration={dur:.1f}s,magnitude={mag:.4g}"
    return (f"service={svc}," if svc else "") + s, start + ramp + dur

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--duration", type=float, default=150)
    ap.add_argument("--qos-min-requests", type=int, default=500)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for i in range(a.count):
        seed = a.seed + i
        r = random.Random(seed)
        args = [a.seer, "sim", "--seed", str(seed), "--duration", f"{a.duration:.0f}s",
                "--rate", f"{r.uniform(1200, 2600):.0f}", "--out", os.path.join(a.out, f"s{seed}"),
                "--overwrite", "--qos-min-requests", str(a.qos_min_requests)]
        pat = r.choice(["constant", "constant", "diurnal", "burst"])
        args += ["--pattern", pat]
        if pat == "diurnal":
            args += ["--period", f"{r.uniform(60, 300):.0f}s", "--amplitude", f"{r.uniform(0.1, 0.4):.2f}"]
        elif pat == "burst":
            args += ["--period", f"{r.uniform(20, 60):.0f}s", "--burst-length", f"{r.uniform(1, 4):.1f}s",
                     "--burst-factor", f"{r.uniform(1.2, 1.8):.2f}"]
        t = r.uniform(25, 50)
        for _ in range(r.choices([0, 1, 2], [1, 5, 3])[0]):
            spec, end = fault(r, t)
            args += ["--fault", spec]
            t = end + r.uniform(15, 30)
            if t > a.duration - 30:
                break
        print(" ".join(args[1:]), flush=True)
        res = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if res.returncode != 0:
            sys.exit(f"scenario {seed}: {res.stderr.strip()}")

if __name__ == "__main__":
    main()
