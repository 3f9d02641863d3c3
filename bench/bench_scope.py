"""Scope analysis (`ide/scope_check.py`) on the 10,000-line generated configuration, in process.

    python -m bench.bench_scope [--lines 10000] [--runs 30]

Times a whole-file pass (what a newly opened document costs) and the re-check after one keystroke (what
each `didChange` costs): a letter typed into a name inside a binding's value, into a string, at the end of a
name (the unit is then the whole binding), a new `let` binding, and typing under `with pkgs;` with the user's
nixpkgs indexed (120,000 package names, so names that are no package are looked up and suggestions made).
The keystroke is applied to the document outside the timing (the parse is the server's, not ours), and the
next run undoes it, so every run starts from the same text. Medians and p90s in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from bench.generate import generate
from nix_humanity_ls.ide import scope_check
from nix_humanity_ls.ide.scope_check import scope_problems
from nix_humanity_ls.knowledge.packages import PackageIndex, bundled_index
from nix_humanity_ls.nixpkgs.records import NixpkgsPackage, NixpkgsPackages
from nix_humanity_ls.syntax.document import Change, Document, PositionEncoding

TARGET_MS = 5.0
PACKAGES = 120_000


def _packages() -> PackageIndex:
    rng = random.Random(7)
    records = [NixpkgsPackage(name) for name in bundled_index().names()]
    while len(records) < PACKAGES:
        records.append(NixpkgsPackage(f"synthetic-{len(records)}-{rng.randrange(10**6)}"))
    return PackageIndex([NixpkgsPackages(records, "/nix/store/bench-nixpkgs"), *bundled_index().sources])


def _stats(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[max(int(len(samples) * 0.9) - 1, 0)]


def _keystroke(doc: Document, packages: PackageIndex | None, at: int, text: str, runs: int) -> list[float]:
    """Insert `text` at byte `at`, check, delete it again, check: the time of each check after an edit."""
    scope_problems(doc, packages)  # the state exists, as it does after the document was opened
    samples = []
    for run in range(runs * 2):
        start = doc.position_at(at, PositionEncoding.UTF8)
        if run % 2 == 0:
            doc.apply([Change(text, start, start)], None, PositionEncoding.UTF8)
        else:
            end = doc.position_at(at + len(text.encode()), PositionEncoding.UTF8)
            doc.apply([Change("", start, end)], None, PositionEncoding.UTF8)
        began = time.perf_counter()
        scope_problems(doc, packages)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_scope", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    text = generate(args.lines)
    lines = text.rstrip("\n").split("\n")
    lines[-1:-1] = ["  environment.etc.scope.text = toString (with pkgs; [ firefox fierfox ]);"]
    text = "\n".join(lines) + "\n"
    raw = text.encode()
    doc = Document("file:///bench/configuration.nix", text)
    packages = _packages()
    middle = doc.line_starts[len(doc.line_starts) // 2]

    rows: list[tuple[str, list[float]]] = []
    whole = []
    for _ in range(args.runs):
        scope_check._STATES.pop(doc, None)  # forget the last check: a whole-file pass, as on opening
        began = time.perf_counter()
        found = scope_problems(doc)
        whole.append((time.perf_counter() - began) * 1000)
    rows.append(("whole file (a document opened)", whole))

    name_in_value = raw.index(b"mkIf config.", middle) + 8  # inside `config` of `lib.mkIf config.…`
    in_string = raw.index(b'"', middle) + 1
    end_of_name = raw.index(b" = ", middle)  # right after an attribute name
    let_binding = raw.index(b"in\n{")  # a new binding at the end of the top `let`
    let_name = raw.index(b"domain = ") + 3  # inside the name of a `let` binding read all over the file
    new_binding = raw.index(b"\n", middle) + 1  # a new line among the bindings of the module's set
    under_with = raw.index(b" ]);", raw.index(b"fierfox"))
    rows.append(("keystroke: a letter inside a name in a value", _keystroke(doc, None, name_in_value, "k", args.runs)))
    rows.append(("keystroke: a letter inside a string", _keystroke(doc, None, in_string, "k", args.runs)))
    rows.append(("keystroke: a letter at the end of an attribute name", _keystroke(doc, None, end_of_name, "k", args.runs)))
    rows.append(("keystroke: a new binding in the module's set", _keystroke(doc, None, new_binding,
                                                                            "  zz.enable = true;\n", args.runs)))
    rows.append(("keystroke: a new `let` binding (names seen by the whole file)",
                 _keystroke(doc, None, let_binding, "  zz = 1;\n", args.runs)))
    rows.append(("keystroke: a letter in a `let` name read 200 times (they turn undefined)",
                 _keystroke(doc, None, let_name, "k", args.runs)))
    # the lookup tables of 120,000 names are built once per index (the server does it right after indexing)
    scope_problems(Document("file:///bench/warm.nix", "{ pkgs, ... }: with pkgs; [ fierfox ]"), packages)
    scope_check._STATES.pop(doc, None)
    began = time.perf_counter()
    judged = scope_problems(doc, packages)
    with_index = (time.perf_counter() - began) * 1000
    rows.append(("keystroke: typing a package name under `with pkgs;` (120,000 names indexed)",
                 _keystroke(doc, packages, under_with, " fiefox", args.runs)))

    print(f"\n{len(doc.line_starts):,} lines, {len(raw) // 1024} kB, {len(found)} findings; {args.runs} runs each. "
          f"Whole file with the package index, once: {with_index:.1f} ms ({len(judged)} names under `with pkgs;` "
          "are no package of the synthetic index, each with its suggestions made for the first time).\n")
    print("| scope analysis (median / p90 ms) | time | target |\n|---|---:|---|")
    for name, samples in rows:
        median, p90 = _stats(samples)
        target = "" if name.startswith("whole") else f"< {TARGET_MS:g} {'✓' if median < TARGET_MS else '✗ MISS'}"
        print(f"| {name} | {median:.2f} / {p90:.2f} | {target} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
