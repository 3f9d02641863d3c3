"""Completion and hover latency with a full nixpkgs' worth of knowledge loaded, and the memory it takes.

Builds the synthetic full-size tree of `bench/nixpkgs_tree.py` (2,000 module files, about 20,000 options),
indexes it, adds package records up to 120,000 names (a full nixpkgs' top level), then times, in process,
`complete()` (option names, packages, option values) and `hover()` on a generated 2,000-line configuration at
typical places. Targets from issue 4:
completion under 15 ms median, hover under 5 ms, memory with the index loaded under 200 MB.

Run from the repository root: `python -m bench.bench_knowledge [--runs N]`.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.generate import generate
from bench.nixpkgs_tree import generate_tree
from nix_humanity_ls.ide.completion import complete
from nix_humanity_ls.ide.hover import Sources, hover
from nix_humanity_ls.knowledge.packages import PackageIndex, bundled_index
from nix_humanity_ls.knowledge.vocabulary import bundled_vocabulary
from nix_humanity_ls.nixpkgs.records import NixpkgsPackage, NixpkgsPackages
from nix_humanity_ls.nixpkgs.static_index import build_static_index
from nix_humanity_ls.syntax.document import Document

TARGETS_MS = {"completion": 15.0, "hover": 5.0}
PACKAGES = 120_000


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


def sources_for(root: Path) -> tuple[Sources, int, int]:
    index = build_static_index(root)
    records = list(index.packages.records())
    rng = random.Random(7)
    while len(records) < PACKAGES:
        records.append(NixpkgsPackage(f"synthetic-{len(records)}-{rng.randrange(10**6)}", "a synthetic package"))
    packages = NixpkgsPackages(records, str(root))
    index_packages = PackageIndex([packages, *bundled_index().sources])
    return Sources(bundled_vocabulary(), index_packages, index.options, root), len(index.options), len(packages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_knowledge", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nhls-bench-knowledge-") as folder:
        root = Path(folder) / "nixpkgs"
        print("generating and indexing a full-size tree …", flush=True)
        generate_tree(root)
        sources, options, packages = sources_for(root)
        text = generate(2000)
        lines = text.rstrip("\n").split("\n")
        assert lines[-1] == "}", "the generated module ends with its closing brace"
        assert sources.options is not None
        group = next(c.name for c in sources.options.children(("services",)) if c.has_children)
        typed = f"services.{group[:3]}"  # a prefix the synthetic tree really has
        option = next(c for c in sources.options.children(("services", group)) if c.option is not None).option
        assert option is not None
        set_line = f"  {option.name} = null;"
        enum = next(o for o in sources.options.options() if "enum [" in o.type and "<name>" not in o.path)
        enum_line = f'  {enum.name} = "";'
        lines[-1:-1] = [set_line, f"  {typed}", "  environment.systemPackages = with pkgs; [ firefox fire ];",
                        enum_line, "  services.openssh.enable = t", "  boot.tmp.cleanOnBoot = true;"]
        text = "\n".join(lines) + "\n"
        doc = Document("file:///bench.nix", text)
        raw = text.encode()
        cases = {
            f"completion: `{typed}|` (options)": lambda: complete(doc, raw.index(typed.encode()) + len(typed), sources),
            "completion: `[ fire| ]` (120,000 packages)": lambda: complete(doc, raw.index(b" fire ]") + 5, sources),
            "completion: value `time.timeZone = \"Europe/|\"` (time zones)":
                lambda: complete(doc, raw.index(b'timeZone = "Europe/') + 19, sources),
            "completion: value of an enum option `= \"|\"`":
                lambda: complete(doc, raw.index(enum_line.encode()) + len(enum_line) - 2, sources),
            "completion: value `enable = t|` (no `;`, a binding follows)":
                lambda: complete(doc, raw.index(b"enable = t\n") + 10, sources),
            "hover: an option name": lambda: hover(doc, raw.index(set_line.encode()) + len(set_line) - 9, sources),
            "hover: a package in a list": lambda: hover(doc, raw.index(b"[ firefox fire ]") + 4, sources),
        }
        answers = {}
        for name, call in cases.items():
            start = time.perf_counter()
            answer = call()  # the first call builds lookup tables: shown apart
            answers[name] = (answer, (time.perf_counter() - start) * 1000)
            if answer is None or (hasattr(answer, "items") and not answer.items):
                raise SystemExit(f"{name}: no answer, so nothing would be measured")
        rows = []
        for name, call in cases.items():
            median, p90 = timed(call, args.runs)
            answer, first = answers[name]
            name = f"{name} — {len(answer.items)} items" if hasattr(answer, "items") else name
            name += f"; first call {first:.1f} ms"
            target = TARGETS_MS["completion" if name.startswith("completion") else "hover"]
            rows.append(f"| {name} | {median:.2f} / {p90:.2f} | < {target:g} {'✓' if median < target else '✗ MISS'} |")
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{options:,} options, {packages:,} packages, a 2,000-line configuration; {args.runs} runs each.\n")
    print("| in process (median / p90 ms) | time | target |\n|---|---:|---|")
    print("\n".join(rows))
    print(f"| peak RSS of this process (index, packages, tree-sitter, the generator) | {rss_mb:.0f} MB | < 200 MB "
          f"{'✓' if rss_mb < 200 else '✗ MISS'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
