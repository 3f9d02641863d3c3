"""How fast the static nixpkgs index is built, written and read back, on a synthetic tree of full nixpkgs size;
how fast evaluated options are merged over it; and how much memory the real server needs with all of it.

    python -m bench.bench_index                          # 2,000 modules, ~20,000 options, 25,000 packages
    python -m bench.bench_index --jobs 2 1 --runs 20     # worker counts to compare, cache loads per process
    python -m bench.bench_index --root /tmp/tree --keep  # reuse (or keep) a generated tree
    python -m bench.bench_index --drop-caches            # root on Linux: empty the OS file cache first
    python -m bench.bench_index --no-server              # skip the server runs

The tree comes from `bench/nixpkgs_tree.py` in a temporary folder. Every measurement runs in a fresh Python
process (`--child …`), so imports, worker start-up and peak memory belong to that step alone:

- build: `build_static_index(root, jobs)`, then `save_index` (cache write) into a private cache folder;
- load: in a new process, the import of `nix_humanity_ls.nixpkgs.cache`, then `load_index` `--runs` times
  (first and median), then the first `children(("services",))` (the trie is built on first use);
- merge: in a new process, evaluated rows for every indexed option plus 500 that only the evaluation knows
  (declared in existing module files, whose lines are then looked up) through `evaluated_options` and
  `merge`, `--runs` times, then the first `children(())` of the merged index;
- server: the real `nix-humanity-ls` pointed at the tree (`nixpkgsPath`), twice with the same cache
  folder (first it indexes and evaluates, then it reads both back). The tree gets a `nixos/default.nix` whose
  options list is the same 20,000 + 500 entries, so real `nix-instantiate`, the evaluation worker and the
  merge run on a full-size answer. VmRSS and VmHWM of the server process are read from `/proc` when the log
  says the static index is ready (`nixpkgs: Using …`) and when the evaluated one is (`nixpkgs: evaluated …`).

Markdown on stdout, progress on stderr; targets (index < 10 s cold, cache load < 300 ms, server RSS with the
full index < 200 MB) are marked ✓ or ✗ MISS, never asserted. Without `--drop-caches` the tree was just
written, so its files are in the OS cache.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .bench_server import INIT_PARAMS, LspClient, environment, read_rss
from .nixpkgs_tree import generate_tree, tree_size

TARGETS = {"build": 10.0, "load": 0.300, "rss_mb": 200.0}  # seconds, seconds, MB
EXTRA_OPTIONS = 500  # options only the evaluation knows, in the merge and server measurements
DROP_CACHES = "/proc/sys/vm/drop_caches"


def _peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest finished child (Linux reports KiB)."""
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / scale)


def child_build(root: str, cache_dir: str, jobs: int) -> dict[str, Any]:
    started = time.perf_counter()
    from nix_humanity_ls.nixpkgs import cache
    from nix_humanity_ls.nixpkgs.static_index import build_static_index

    imported = time.perf_counter()
    index = build_static_index(root, jobs=jobs)
    built = time.perf_counter()
    key = cache.index_key(root)
    path = cache.save_index(index, key, Path(cache_dir))
    written = time.perf_counter()
    rss_self, rss_children = _peak_rss_mb()
    cpu = sum(getattr(resource.getrusage(who), field) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for field in ("ru_utime", "ru_stime"))
    return {
        "cpu_s": cpu,
        "import_s": imported - started, "build_s": built - imported, "write_s": written - built,
        "options": len(index.options), "renames": sum(1 for _ in index.options.renames()),
        "packages": len(index.packages), "old_names": sum(1 for _ in index.packages.aliases()), "unfree": sum(p.unfree for p in index.packages.records()),
        "described": sum(bool(p.description) for p in index.packages.records()),
        "problems": len(index.problems), "cache_bytes": path.stat().st_size if path else None,
        "rss_mb": rss_self, "rss_children_mb": rss_children,
    }


def child_load(root: str, cache_dir: str, runs: int) -> dict[str, Any]:
    started = time.perf_counter()
    from nix_humanity_ls.nixpkgs import cache

    imported = time.perf_counter()
    key = cache.index_key(root)
    times = []
    index = None
    rss_first = 0.0
    for _ in range(runs):
        begin = time.perf_counter()
        index = None  # the previous index goes first, as in a server that reloads
        index = cache.load_index(key, Path(cache_dir))
        times.append(time.perf_counter() - begin)
        if index is None:
            raise SystemExit("the cache did not load")
        rss_first = rss_first or _peak_rss_mb()[0]
    begin = time.perf_counter()
    services = index.options.children(("services",))  # type: ignore[union-attr]
    first_children = time.perf_counter() - begin
    begin = time.perf_counter()
    index.options.children(("services",))  # type: ignore[union-attr]
    later_children = time.perf_counter() - begin
    return {
        "import_s": imported - started, "load_first_s": times[0], "load_median_s": statistics.median(times),
        "load_all_s": times, "children_first_s": first_children, "children_s": later_children,
        "services": len(services), "rss_mb": rss_first,
    }


def evaluated_rows(index: Any, extra: int = EXTRA_OPTIONS) -> list[tuple]:
    """What the evaluation worker would send for `index`: every option with Nix's wording of its type, and
    `extra` options declared in the same files that the static reading did not see."""
    rows = []
    for option in index.options.options():
        rows.append((option.path, "string", option.default, option.example, option.description or "Text.",
                     (option.file,), option.internal, option.read_only))
    for number, option in enumerate(list(index.options.options())[:: max(1, len(index.options) // extra)][:extra]):
        rows.append((option.path[:-1] + (f"generated{number}",), "boolean", "false", None, "Computed.",
                     (option.file,), False, False))
    return rows


def child_merge(root: str, cache_dir: str, runs: int) -> dict[str, Any]:
    from nix_humanity_ls.nixpkgs import cache
    from nix_humanity_ls.nixpkgs.evaluated import evaluated_options, merge

    index = cache.load_index(cache.index_key(root), Path(cache_dir))
    if index is None:
        raise SystemExit("the cache did not load")
    rows = evaluated_rows(index)
    rss_before = _peak_rss_mb()[0]
    convert, merging = [], []
    merged = None
    for _ in range(runs):
        begin = time.perf_counter()
        options = evaluated_options(rows, index.options, root)
        converted = time.perf_counter()
        merged = None
        merged = merge(index.options, options)
        merging.append(time.perf_counter() - converted)
        convert.append(converted - begin)
    begin = time.perf_counter()
    merged.children(())  # type: ignore[union-attr]
    trie = time.perf_counter() - begin
    return {"rows": len(rows), "options": len(merged), "static": len(index.options),  # type: ignore[arg-type]
            "convert_s": statistics.median(convert), "convert_first_s": convert[0], "merge_s": statistics.median(merging),
            "trie_s": trie, "rss_before_mb": rss_before, "rss_mb": _peak_rss_mb()[0]}


EVALUABLE_LIB = """{
  optionAttrSetToDocList = options: options.docs;
  generators.toPretty = _: builtins.toJSON;
}
"""
EVALUABLE_NIXOS = """{ configuration ? { } }:
{ options.docs = builtins.fromJSON (builtins.readFile ./evaluated-options.json); }
"""


def make_evaluable(root: Path, cache_dir: Path) -> int:
    """Give the tree a `nixos/default.nix` whose options are the indexed ones plus `EXTRA_OPTIONS` (the entries
    `optionAttrSetToDocList` gives, as JSON); how many entries. The files touched are not part of the index key."""
    from nix_humanity_ls.nixpkgs import cache

    index = cache.load_index(cache.index_key(root), cache_dir)
    if index is None:
        raise SystemExit("the cache did not load")
    entries = [{"loc": list(path), "type": type_, "description": description,
                "declarations": [f"{root}/{files[0]}"], "internal": internal, "visible": True, "readOnly": read_only,
                **({"default": {"_type": "literalExpression", "text": default}} if default is not None else {})}
               for path, type_, default, _example, description, files, internal, read_only in evaluated_rows(index)]
    (root / "lib" / "default.nix").write_text(EVALUABLE_LIB, encoding="utf-8")
    (root / "nixos" / "default.nix").write_text(EVALUABLE_NIXOS, encoding="utf-8")
    (root / "nixos" / "evaluated-options.json").write_text(json.dumps(entries), encoding="utf-8")
    return len(entries)


async def server_run(root: Path, scratch: Path) -> dict[str, Any]:
    """One server session on `root`: memory when the static index is ready and when the evaluated one is."""
    workspace = scratch / "workspace"
    workspace.mkdir(exist_ok=True)
    env = {**os.environ, "NIX_PATH": "", "NIXOS_CONFIG": "", "XDG_CACHE_HOME": str(scratch / "xdg-cache"),
           "XDG_STATE_HOME": str(scratch / "state")}
    client = await LspClient.spawn([sys.executable, "-m", "nix_humanity_ls"], scratch / "server.log", env)

    def logged(start: str) -> Any:
        return client.expect(lambda m: m.get("method") == "window/logMessage"
                             and m["params"]["message"].startswith(start))

    static, evaluated = logged("nixpkgs: Using"), logged("nixpkgs: evaluated")
    failed = client.expect(lambda m: m.get("method") == "window/logMessage" and m["params"]["type"] == 2
                           and m["params"]["message"].startswith("nixpkgs:"))  # a warning: the evaluation failed
    try:
        started = time.perf_counter()
        await client.request("initialize", {**INIT_PARAMS, "rootUri": workspace.as_uri(), "initializationOptions": {
            "nixHumanity": {"nixpkgsPath": str(root), "evaluation": {"timeout": 600}}}})
        await client.notify("initialized", {})
        static_at, message = await asyncio.wait_for(static, 600)
        static_hwm, static_rss = read_rss(client.proc.pid)
        done = await asyncio.wait_for(asyncio.wait([evaluated, failed], return_when=asyncio.FIRST_COMPLETED), 900)
        evaluated_at, said = next(iter(done[0])).result()
        if not said["params"]["message"].startswith("nixpkgs: evaluated"):
            raise SystemExit(f"the evaluation failed: {said['params']['message']}")
        hwm, rss = read_rss(client.proc.pid)
        return {"static_s": static_at - started, "evaluated_s": evaluated_at - static_at,
                "static_rss_mb": (static_rss or 0) / 1024, "static_hwm_mb": (static_hwm or 0) / 1024,
                "rss_mb": (rss or 0) / 1024, "hwm_mb": (hwm or 0) / 1024,
                "static_said": message["params"]["message"][-60:], "evaluated_said": said["params"]["message"]}
    finally:
        await client.close()


def run_child(args: list[str]) -> dict[str, Any]:
    result = subprocess.run([sys.executable, "-m", "bench.bench_index", "--child", *args], capture_output=True,
                            text=True, cwd=Path(__file__).resolve().parent.parent, timeout=600, check=False)
    if result.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def drop_caches() -> bool:
    """Empty the OS file cache (Linux, root only) so the build reads the tree from disk."""
    try:
        subprocess.run(["sync"], check=False, timeout=120)
        with open(DROP_CACHES, "w") as handle:
            handle.write("3\n")
        return True
    except OSError as error:
        print(f"cannot drop the OS file cache: {error}", file=sys.stderr)
        return False


def mark(value: float, target: float) -> str:
    return "✓" if value < target else "✗ MISS"


def _row(measurement: str, value: str, target: str = "") -> str:
    return f"| {measurement} | {value} | {target} |"


def markdown(info: dict[str, Any], builds: dict[int, dict[str, Any]], load: dict[str, Any], dropped: bool) -> str:
    tree = info["tree"]
    first = builds[next(iter(builds))]
    cache_state = "emptied before each build" if dropped else "warm (files just written)"
    header = (
        f"Tree: {tree['module files']:,} module files, {first['options']:,} options indexed, "
        f"{tree['packages']:,} by-name packages + {tree['top-level only']:,} top-level only; {tree['files']:,} files, "
        f"{tree['bytes'] / 1e6:.0f} MB; generated in {tree['seconds']:.1f} s. OS file cache: {cache_state}. "
        f"{info['environment']['cpus']} CPUs, Python {info['environment']['python']}."
    )
    load_target = f"< {TARGETS['load'] * 1000:.0f} ms"
    lines = [header, "", "| measurement | value | target |", "|---|---:|---|"]
    for jobs, build in builds.items():
        label = f"{jobs} worker processes" if jobs > 1 else "in one process"
        lines.append(_row(f"cold static index, {label}", f"{build['build_s']:.2f} s (CPU {build['cpu_s']:.2f} s)",
                          f"< {TARGETS['build']:g} s {mark(build['build_s'], TARGETS['build'])}"))
    lines += [
        _row("cache write", f"{first['write_s'] * 1000:.0f} ms"),
        _row("cache load, first in a fresh process", f"{load['load_first_s'] * 1000:.0f} ms",
             f"{load_target} {mark(load['load_first_s'], TARGETS['load'])}"),
        _row(f"cache load, median of {len(load['load_all_s'])}", f"{load['load_median_s'] * 1000:.0f} ms",
             f"{load_target} {mark(load['load_median_s'], TARGETS['load'])}"),
        _row("import of the cache module (fresh process)", f"{load['import_s'] * 1000:.0f} ms"),
        _row("first `children(services)` (builds the trie) / later",
             f"{load['children_first_s'] * 1000:.0f} ms / {load['children_s'] * 1000:.2f} ms"),
        _row("index size on disk", f"{first['cache_bytes'] / 1e6:.2f} MB"),
    ]
    for jobs, build in builds.items():
        label = f"{jobs} workers" if jobs > 1 else "one process"
        workers = f", largest worker {build['rss_children_mb']:.0f} MB" if jobs > 1 else ""
        lines.append(_row(f"peak RSS while building ({label})", f"{build['rss_mb']:.0f} MB{workers}"))
    lines += [
        _row("peak RSS after loading the cache once (fresh process)", f"{load['rss_mb']:.0f} MB"),
        "",
        (f"Indexed: {first['options']:,} options, {first['renames']:,} renames, {first['packages']:,} packages "
         f"({first['unfree']:,} unfree, {first['described']:,} with a description), {first['old_names']:,} old "
         f"package names, {first['problems']} problems."),
    ]
    return "\n".join(lines)


def merge_markdown(merged: dict[str, Any], servers: list[dict[str, Any]]) -> str:
    lines = ["", "| measurement | value | target |", "|---|---:|---|",
             _row(f"evaluated rows → records ({merged['rows']:,} rows; first / median)",
                  f"{merged['convert_first_s'] * 1000:.0f} ms / {merged['convert_s'] * 1000:.0f} ms"),
             _row(f"merge over the static index ({merged['static']:,} → {merged['options']:,} options)",
                  f"{merged['merge_s'] * 1000:.0f} ms"),
             _row("first `children(())` of the merged index (builds the trie)", f"{merged['trie_s'] * 1000:.0f} ms"),
             _row("peak RSS of that process: static index loaded / after merging",
                  f"{merged['rss_before_mb']:.0f} MB / {merged['rss_mb']:.0f} MB")]
    target = f"< {TARGETS['rss_mb']:g} MB"
    for number, server in enumerate(servers):
        how = "indexes and evaluates" if number == 0 else "reads both from the cache"
        lines += [
            _row(f"server ({how}): static index ready / evaluated index ready",
                 f"{server['static_s']:.2f} s / +{server['evaluated_s']:.2f} s"),
            _row(f"server ({how}): VmRSS with the static index", f"{server['static_rss_mb']:.0f} MB",
                 f"{target} {mark(server['static_rss_mb'], TARGETS['rss_mb'])}"),
            _row(f"server ({how}): VmRSS with the evaluated index / VmHWM",
                 f"{server['rss_mb']:.0f} MB / {server['hwm_mb']:.0f} MB",
                 f"{target} {mark(server['rss_mb'], TARGETS['rss_mb'])}"),
        ]
    if servers:
        lines += ["", f"Server log: {servers[-1]['evaluated_said']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_index", description=__doc__.split("\n\n")[0])
    ap.add_argument("--modules", type=int, default=2000)
    ap.add_argument("--options", type=int, default=20000)
    ap.add_argument("--packages", type=int, default=25000)
    ap.add_argument("--jobs", type=int, nargs="+", default=None,
                    help="worker processes for the build, one build each (default: the library's default, then 1)")
    ap.add_argument("--runs", type=int, default=10, help="cache loads in the load process (default: 10)")
    ap.add_argument("--root", type=Path, help="generate the tree here (reused if it is already there)")
    ap.add_argument("--keep", action="store_true", help="keep the generated tree")
    ap.add_argument("--drop-caches", action="store_true", help="empty the OS file cache before each build")
    ap.add_argument("--json", type=Path, help="also write the raw numbers here")
    ap.add_argument("--no-server", action="store_true", help="skip the two server runs")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:  # nothing of the package is imported before the child's own clock starts
        kind, root, cache_dir, number = args.child
        child = {"build": child_build, "load": child_load, "merge": child_merge}[kind]
        result = child(root, cache_dir, int(number))
        print(json.dumps(result))
        return 0

    if args.jobs is None:
        from nix_humanity_ls.nixpkgs.static_index import default_jobs

        args.jobs = sorted({default_jobs(), 1}, reverse=True)
    with tempfile.TemporaryDirectory(prefix="nhls-bench-index-") as scratch:
        root = args.root or Path(scratch) / "nixpkgs"
        started = time.perf_counter()
        if (root / "nixos" / "modules" / "module-list.nix").exists():
            print(f"reusing the tree in {root}", file=sys.stderr)
            tree: dict[str, Any] = {"module files": args.modules, "packages": args.packages, "top-level only": 6000}
        else:
            print(f"generating the tree in {root} …", file=sys.stderr)
            tree = generate_tree(root, args.modules, args.options, args.packages)
            os.sync()  # the kernel writing the new files back must not slow the first build down
        files, size = tree_size(root)
        tree.update(files=files, bytes=size, seconds=time.perf_counter() - started)
        builds: dict[int, dict[str, Any]] = {}
        for jobs in args.jobs:
            cache_dir = Path(scratch) / f"cache-{jobs}"
            dropped = args.drop_caches and drop_caches()
            print(f"building with jobs={jobs} …", file=sys.stderr)
            builds[jobs] = run_child(["build", str(root), str(cache_dir), str(jobs)])
        print("loading the cache …", file=sys.stderr)
        load = run_child(["load", str(root), str(Path(scratch) / f"cache-{args.jobs[0]}"), str(args.runs)])
        print("merging evaluated options …", file=sys.stderr)
        merged = run_child(["merge", str(root), str(Path(scratch) / f"cache-{args.jobs[0]}"), str(min(args.runs, 5))])
        servers: list[dict[str, Any]] = []
        if not args.no_server:
            entries = make_evaluable(root, Path(scratch) / f"cache-{args.jobs[0]}")
            for run in ("first", "second"):
                print(f"server, {run} start ({entries} evaluated options) …", file=sys.stderr)
                servers.append(asyncio.run(server_run(root, Path(scratch))))
        info = {"tree": tree, "environment": environment(), "builds": builds, "load": load, "merge": merged,
                "servers": servers}
        print(markdown(info, builds, load, bool(args.drop_caches and dropped)))
        print(merge_markdown(merged, servers))
        if args.json:
            args.json.write_text(json.dumps(info, indent=1))
        if args.keep and args.root is None:
            kept = Path(tempfile.mkdtemp(prefix="nhls-bench-nixpkgs-")) / "nixpkgs"
            os.replace(root, kept)
            print(f"kept the tree in {kept}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
