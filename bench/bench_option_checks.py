"""Latency of the option and package checks on every change, with a full nixpkgs' worth of knowledge.

Builds the synthetic full-size tree of `bench/nixpkgs_tree.py` (about 20,000 options), indexes it, adds package
records up to 120,000 names (as `bench_knowledge` does), and writes two 2,000-line configurations:

- **valid**: settings of the synthetic tree's own options (dotted and nested `services.<x> = { … };`, values
  of their types, package lists under `with pkgs;`): the common case, nothing to report;
- **realistic**: `bench/generate.py`'s configuration, whose real-world option names the synthetic tree does
  not declare: hundreds of unknown options and packages with did-you-mean searches (a worst case).

Each change inserts (and then deletes) one character, either inside a string near the middle (one top-level binding
changes: only it is checked again) or in the comment on the first line (outside every binding: every binding
is looked up by the digest of its text), applies it to the `Document` incrementally, then times
`option_problems` alone and the whole `document_problems` (syntax, parse rules, option checks); a third kind
adds and removes a whole binding line (only it is checked), a fourth adds and removes a module argument (all
bindings are checked again: package lists read the names bound around them). The kept results are compared
with a fresh check at the end; the first, whole-file check of each file is shown too. Target from issue 4: under 10 ms median per change.

Run from the repository root: `python -m bench.bench_option_checks [--runs N]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.bench_knowledge import sources_for
from bench.generate import edit_target, generate
from bench.nixpkgs_tree import generate_tree
from nix_humanity_ls.ide.diagnostics import document_problems
from nix_humanity_ls.ide.hover import Sources
from nix_humanity_ls.ide.option_checks import option_problems, warm
from nix_humanity_ls.syntax.document import Change, Document, Position

TARGET_MS = 10.0
LINES = 2000


def valid_configuration(sources: Sources, lines: int = LINES, seed: int = 3) -> str:
    """A module of `lines` lines that sets only options the index declares, in both spellings."""
    assert sources.options is not None
    rng = random.Random(seed)
    literal = {"types.bool": "true", "types.port": "8080", "types.int": "4", "types.str": '"value"',
               "types.lines": "''\n      text\n    ''", "types.path": '"/var/lib/x"', "types.nullOr types.str": "null",
               "types.listOf types.str": '[ "a" "b" ]'}
    by_group: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for option in sources.options.options():
        if option.type in literal and "<name>" not in option.path and "*" not in option.path and len(option.path) >= 3:
            by_group.setdefault(option.path[:-1], []).append((option.path[-1], literal[option.type]))
    packages = [name for name in sources.packages.names_starting("", 2000) if name.isidentifier()][:40]
    out = ["# Generated for benchmarks.", "{ config, lib, pkgs, ... }:", "{", "  environment.systemPackages = with pkgs; ["]
    out += [f"    {name}" for name in packages] + ["  ];"]
    groups = sorted(by_group)
    rng.shuffle(groups)
    for group in groups:
        if len(out) >= lines - 2:
            break
        settings = by_group[group]
        if rng.random() < 0.5:
            out.append(f"  {'.'.join(group)} = {{")
            out += [f"    {name} = {value};" for name, value in settings]
            out.append("  };")
        else:
            out += [f"  {'.'.join(group)}.{name} = {value};" for name, value in settings]
    text = "\n".join(out[: lines - 1] + ["}"]) + "\n"
    while text.count("{") != text.count("}"):  # a cut inside a nested set: close it
        text = text[: -len("}\n")] + "  };\n}\n"
    return text


def measure(text: str, sources: Sources, runs: int, where: str) -> tuple[dict[str, tuple[float, float]], int]:
    """Time the checks after changes `where` ("binding": a character inside a string value near the middle;
    "outside": a character in the comment on the first line, outside every binding; "new binding": a line
    with a new binding in the middle; "arguments": a new module argument, which every binding may read)."""
    doc = Document("file:///bench.nix", text)
    line, character = edit_target(text, "string") if where != "outside" else (0, 2)
    added = "x"
    if where == "new binding":  # a whole binding appears between two others, and goes again
        line, character, added = line, 0, "  networking.benchAdded = 1;\n"
    elif where == "arguments":  # the module's arguments change: every binding may read them, all are checked
        line, character, added = text.splitlines().index("{ config, lib, pkgs, ... }:"), 2, "x, "
    insert = [Change(added, Position(line, character), Position(line, character))]
    delete = [Change("", Position(line, character),
                     Position(line + added.count("\n"), 0 if "\n" in added else character + len(added)))]
    found = len(option_problems(doc, sources))
    samples: dict[str, list[float]] = {"option_problems": [], "document_problems": []}
    for _run in range(runs):
        for change in (insert, delete):
            doc.apply(change)
            start = time.perf_counter()
            option_problems(doc, sources)
            checked = time.perf_counter()
            document_problems(doc, limit=100, sources=sources)  # the option checks' result is kept: not redone
            done = time.perf_counter()
            samples["option_problems"].append((checked - start) * 1000)
            samples["document_problems"].append((done - start) * 1000)
    if option_problems(doc, sources) != option_problems(Document("file:///fresh.nix", doc.source), sources):
        raise SystemExit("the kept results differ from a fresh check: the measurement would be meaningless")
    result = {}
    for name, values in samples.items():
        values.sort()
        result[name] = (statistics.median(values), values[int(len(values) * 0.9) - 1])
    return result, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_option_checks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nhls-bench-checks-") as folder:
        root = Path(folder) / "nixpkgs"
        print("generating and indexing a full-size tree …", flush=True)
        generate_tree(root)
        sources, options, packages = sources_for(root)
        warm(sources)
        configurations = {"valid": valid_configuration(sources), "realistic": generate(LINES)}
        rows = []
        for name, text in configurations.items():
            start = time.perf_counter()
            option_problems(Document("file:///first.nix", text), sources)
            rows.append(f"| {name} | first check (whole file) | option_problems | {(time.perf_counter() - start) * 1000:.1f} | |")
            for where in ("binding", "outside", "new binding", "arguments"):
                timings, found = measure(text, sources, args.runs, where)
                for part, (median, p90) in timings.items():
                    mark = "✓" if median < TARGET_MS else "✗ MISS"
                    rows.append(f"| {name} ({len(text.splitlines())} lines, {found} findings) | {where} | {part} | "
                                f"{median:.2f} / {p90:.2f} | < {TARGET_MS:g} {mark} |")
    print(f"\n{options:,} options, {packages:,} packages; {args.runs} changes each.\n")
    print("| configuration | change | checks | median / p90 ms | target |\n|---|---|---|---:|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
