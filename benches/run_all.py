#!/usr/bin/env python3
"""Runs every benchmark and rewrites the tables of BENCHMARKS.md from what they print.

    benches/run_all.py              # profiling build, every bench, BENCHMARKS.md rewritten
    benches/run_all.py gossip api   # only these benches (their tables are rewritten)
    benches/run_all.py --smoke      # tiny sizes on the dev build, nothing written (CI)

Each bench of the root package, and felund-relay's ws_scale, prints one `BENCH {json}` line
per figure (see benches/support/mod.rs): table, id, what, target, measured, met.
felund-relay's relay bench prints a Markdown table, whose rows are taken as they are. A bench
that fails, or prints no figure, fails the run, unless it said why it skipped itself (a
`SKIPPED <name>` line: ws_scale without a Python with aiohttp). The tables live between
`<!-- bench:NAME -->` and `<!-- /bench:NAME -->` in BENCHMARKS.md; everything else there is
left alone.

The benches run on the `profiling` profile (the release profile plus debug info and
symbols, which release binaries no longer carry), so a slow figure can be profiled with
`perf` on exactly the binaries that produced it (target/profiling/).
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "BENCHMARKS.md"

# The profile of a measured run: release code with debug info (see the workspace Cargo.toml).
PROFILE = "profiling"

# name → cargo arguments after `cargo bench`
BENCHES = {
    "api": ["--bench", "api"],
    "gossip": ["--bench", "gossip"],
    "load": ["--bench", "load"],
    "memory": ["--bench", "memory"],
    "relay_delivery": ["--bench", "relay_delivery"],
    "datachannel": ["--bench", "datachannel"],
    "relay": ["-p", "felund-relay", "--bench", "relay"],
    "ws_scale": ["-p", "felund-relay", "--bench", "ws_scale"],
}

RELAY_ROW = re.compile(r"^\|\s*([^|]+?)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*([^|]+?)\s*\|\s*$")


def run(cmd, env=None):
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=env, check=False)


def bench(name, smoke):
    """Runs one bench; returns its figures (dicts), None when it skipped itself, or raises."""
    env = dict(os.environ)
    cmd = ["cargo", "bench"]
    if smoke:
        env["FELUND_BENCH_SMOKE"] = "1"
        # The dev build that `cargo test --workspace` made: no release build needed.
        cmd += ["--profile", "dev"]
    else:
        cmd += ["--profile", PROFILE]
    cmd += BENCHES[name]
    print("$", " ".join(cmd), flush=True)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    figures, skipped = [], False
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if line.startswith("BENCH "):
            figures.append(json.loads(line[len("BENCH "):]))
        elif line.startswith(f"SKIPPED {name}:"):
            skipped = True
        elif name == "relay":
            m = RELAY_ROW.match(line.strip())
            if m and m.group(1) != "setup":
                setup, ingest, pull, ws = m.groups()
                figures.append({
                    "table": "relay",
                    "id": setup,
                    "what": setup,
                    "target": "—",
                    "measured": f"ingest {float(ingest):,.0f} msg/s, pull {float(pull):,.0f} msg/s, "
                                f"WS delivery p50 / p99 {ws} ms",
                    "met": None,
                })
    if proc.wait() != 0:
        raise RuntimeError(f"bench {name} failed (exit {proc.returncode})")
    if not figures:
        if skipped:
            return None
        raise RuntimeError(f"bench {name} printed no figure")
    return figures


def table(name, figures, stamp):
    lines = [
        stamp,
        "",
        "| what | target | measured | met |",
        "|---|---|---|---|",
    ]
    for f in figures:
        met = {True: "yes", False: "**no**", None: "—"}[f.get("met")]
        lines.append(f"| {f['what']} | {f['target']} | **{f['measured']}** | {met} |")
    return "\n".join(lines)


def rewrite(doc, name, body):
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(doc):
        raise RuntimeError(f"BENCHMARKS.md has no {start} … {end} section")
    return pattern.sub(lambda _: f"{start}\n{body}\n{end}", doc)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("benches", nargs="*", help=f"which benches (default: all of {', '.join(BENCHES)})")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes on the dev build; write nothing")
    ap.add_argument("--no-write", action="store_true", help="do not rewrite BENCHMARKS.md")
    args = ap.parse_args()
    names = args.benches or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        ap.error(f"unknown bench(es): {', '.join(unknown)}")
    if not args.smoke:
        # The benches start the binaries next to them (target/profiling/).
        bins = ["-p", "felundd", "-p", "felundctl", "-p", "felund-relay"]
        if run(["cargo", "build", "--profile", PROFILE] + bins).returncode != 0:
            sys.exit(f"{PROFILE} build failed")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    # BENCHMARKS.md is this script's own output: its changes do not count.
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":(exclude)BENCHMARKS.md"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    if dirty:
        commit += " + uncommitted changes"
    results, failed = {}, []
    for name in names:
        load = os.getloadavg()[0]
        try:
            figures = bench(name, args.smoke)
            if figures is None:
                print(f"skipped {name} (see its SKIPPED line)", file=sys.stderr)
                continue
            results[name] = (figures, load)
        except RuntimeError as e:
            print(f"FAILED: {e}", file=sys.stderr)
            failed.append(name)
    if not args.smoke and not args.no_write and results:
        doc = DOC.read_text()
        today = datetime.date.today().isoformat()
        for name, (figures, load) in results.items():
            cmd = f"cargo bench --profile {PROFILE} " + " ".join(BENCHES[name])
            stamp = (f"Measured {today} on commit {commit} with `{cmd}` "
                     f"(release code; load average {load:.2f} when it started).")
            doc = rewrite(doc, name, table(name, figures, stamp))
        DOC.write_text(doc)
        print(f"rewrote {len(results)} table(s) in {DOC.name}")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")
    total = sum(len(f) for f, _ in results.values())
    print(f"{len(results)} benches, {total} figures")


if __name__ == "__main__":
    main()
