"""Scope analysis (`ide/scope_check.py`): undefined variables as Nix's parser finds them, names under
`with pkgs;` that are no package, the fixes offered, the top-level names, and the incremental re-check.

Agreement with the real Nix: `nix-instantiate --parse` (Nix 2.8) resolves every variable while it parses and
rejects the first undefined one. Each snippet of the syntax corpus, a table of scoping cases and a few hundred
generated expressions go through both; where neither side sees another kind of problem, Nix must accept
exactly the snippets in which we find nothing, and the name Nix reports must be one we report.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench.generate import generate
from nix_humanity_ls.edits.text_edit import apply_edits
from nix_humanity_ls.ide.diagnostics import document_problems
from nix_humanity_ls.ide.nix_parse import nix_parse_problem
from nix_humanity_ls.ide.scope_check import (
    NEWER_GLOBALS,
    NIX_28_GLOBALS,
    NIX_28_PREFIXED,
    TOP_LEVEL_NAMES,
    scope_problems,
)
from nix_humanity_ls.knowledge.packages import PackageIndex, bundled_index
from nix_humanity_ls.nixpkgs.records import NixpkgsPackage, NixpkgsPackages
from nix_humanity_ls.syntax.document import Change, Document, PositionEncoding
from nix_humanity_ls.syntax.parser import parse
from tests.test_syntax_corpus import CORPUS

URI = "file:///tmp/nix-humanity-scope/configuration.nix"
needs_nix = pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="nix-instantiate is not installed")

# A user's nixpkgs, as the index gives it: its packages first, then the bundled list.
USER_PACKAGES = PackageIndex([
    NixpkgsPackages([NixpkgsPackage("firefox"), NixpkgsPackage("htop"), NixpkgsPackage("hello")], "/nix/store/x-nixpkgs"),
    *bundled_index().sources,
])


def found(source: str, packages: PackageIndex | None = None) -> list[tuple[str, str]]:
    """(name as written, code) of each scope problem."""
    doc = Document(URI, source)
    return [(doc.slice(p.start, p.end), p.code) for p in scope_problems(doc, packages)]


U, P = "undefined-variable", "unknown-package"

CASES = [
    # functions: plain, formals, defaults that see each other, `@` names
    ("x: x", []),
    ("x: y", [("y", U)]),
    ("{ a, b ? a, ... }: b", []),
    ("{ a ? b, b ? a }: a", []),
    ("{ x ? y }: x", [("y", U)]),
    ("args@{ a ? args }: a", []),
    ("{ a }@args: args.b", []),
    # let, legacy let, rec; attribute names of plain sets bind nothing
    ("let a = 1; b = a; in b", []),
    ("let a.b = 1; in a", []),
    ('let "a" = 1; in a', []),
    ('let ${"a"} = 1; in a', []),
    ("let { a = 1; body = a; }", []),
    ("let { body = b; }", [("b", U)]),
    ("rec { a = 1; b = a; }", []),
    ("{ a = 1; b = a; }", [("a", U)]),
    ("rec { a.b = 1; c = a; }", []),
    ('rec { "${"a"}" = 1; b = a; }', []),  # an unclear name (Nix versions differ): nothing under it is reported
    ("rec { ${x} = 1; }", [("x", U)]),
    ("rec { a = 1; ${a} = 2; }", []),
    # inherit reads from the scope around its `let`/`rec`; inherit (e) reads e inside it
    ("rec { inherit x; }", [("x", U)]),
    ("let inherit x; in 1", [("x", U)]),
    ("let x = 1; in { inherit x; }", []),
    ("{ inherit x; }", [("x", U)]),
    ('{ inherit "x"; }', [('"x"', U)]),
    ("let a = { x = 1; }; inherit (a) x; in x", []),
    ("rec { inherit (a) a; }", []),
    ("{ inherit (x) y; }", [("x", U)]),
    # dynamic names, interpolations, `or`, `?`, paths
    ("x: x.${y}", [("y", U)]),
    ('"${z}"', [("z", U)]),
    ("''a ${z} b''", [("z", U)]),
    ("./a/${z}", [("z", U)]),
    ("x: x ? ${y}", [("y", U)]),
    ("x: x.a or y", [("y", U)]),
    ('{ "${a}" = 1; }', [("a", U)]),
    ("assert x; 1", [("x", U)]),
    # with: its environment is read outside it; unresolved names under it are not errors
    ("with x; y", [("x", U)]),
    ("x: with x; y", []),
    ("let x = 1; in with {}; y", []),
    ("x: with x; with y; z", []),  # `y` is read under the first `with`
    ("x: with y; with x; z", [("y", U)]),
    # top-level names
    ("[ builtins true false null map toString __add __curPos import derivation fetchTree ]", []),
    ("[ break __warn __convertHash __getFlake __fetchClosure ]", []),  # newer Nix, or behind a feature
    ("[ __x fetchClosure getFlake convertHash ]",
     [("__x", U), ("fetchClosure", U), ("getFlake", U), ("convertHash", U)]),
    # a lexical binding wins over an enclosing with
    ("let map = 1; in with x; map", [("x", U)]),
]


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_scopes(source: str, expected: list[tuple[str, str]]):
    assert found(source) == expected


MODULE = "{ config, pkgs, lib, ... }:\n{\n  environment.systemPackages = with pkgs; [ {} ];\n}\n"


@pytest.mark.parametrize(("elements", "expected"), [
    ("firefox htop", []),
    ("fierfox", [("fierfox", P)]),
    ("lib stdenv writeShellScriptBin callPackage config", []),  # the package set beyond all-packages.nix
    ("vim", []),  # bundled knowledge counts too
])
def test_names_under_with_pkgs_are_checked_against_the_users_nixpkgs(elements: str, expected: list):
    assert found(MODULE.replace("{}", elements), USER_PACKAGES) == expected


@pytest.mark.parametrize("source", [
    "{ lib, ... }: with lib; [ fierfox ]",  # lib's names are unknown to us
    "{ pkgs, lib, ... }: with pkgs; with lib; [ fierfox ]",  # nested: could come from either
    "{ pkgs, ... }: with import ./x.nix; [ fierfox ]",
    "{ ... }: let pkgs = { }; in with pkgs; [ fierfox ]",  # not the package set
    "x: with x.pkgs; [ fierfox ]",
])
def test_other_withs_say_nothing(source: str):
    assert found(source, USER_PACKAGES) == []


def test_the_package_set_may_come_from_import_nixpkgs_and_a_lexical_name_wins():
    assert found("let pkgs = import <nixpkgs> { }; in with pkgs; [ htopp ]", USER_PACKAGES) == [("htopp", P)]
    assert found("{ pkgs, ... }: let fierfox = 1; in with pkgs; [ fierfox ]", USER_PACKAGES) == []
    assert found("pkgs: with pkgs; [ hellp ]", USER_PACKAGES) == [("hellp", P)]


def test_without_the_users_index_no_package_is_judged():
    source = MODULE.replace("{}", "fierfox")
    assert found(source) == []
    assert found(source, bundled_index()) == []  # 746 bundled names are far from all of nixpkgs


def _fixed(source: str, problem_index: int = 0, fix_index: int = 0, packages: PackageIndex | None = None) -> str:
    doc = Document(URI, source)
    fix = scope_problems(doc, packages)[problem_index].fixes[fix_index]
    return apply_edits(doc.source, fix.edits).decode()


def _parses_cleanly(text: str) -> bool:
    return not parse(text.encode()).root_node.has_error


def test_fix_adds_a_missing_module_argument():
    source = "{ config, ... }:\n{\n  environment.systemPackages = [ pkgs.firefox ];\n}\n"
    doc = Document(URI, source)
    (problem,) = scope_problems(doc)
    assert problem.message == "undefined variable `pkgs`: the module does not take `pkgs` as an argument"
    assert problem.fixes[0].title == "Add `pkgs` to the module's arguments" and problem.fixes[0].preferred
    fixed = _fixed(source)
    assert fixed.startswith("{ config, pkgs, ... }:") and _parses_cleanly(fixed) and found(fixed) == []
    bare = _fixed("{\n  environment.systemPackages = [ pkgs.firefox ];\n}\n")
    assert bare.startswith("{ pkgs, ... }:\n{") and found(bare) == []
    for name in ("lib", "options", "modulesPath"):
        fixed = _fixed("{ config, ... }: { x = " + name + "; }")
        assert found(fixed) == [] and _parses_cleanly(fixed)


def test_no_argument_fix_when_the_module_takes_one_name_for_all():
    (problem,) = scope_problems(Document(URI, "args: { x = pkgs.hello; }"))
    assert [f.title for f in problem.fixes] == []


def test_fix_renames_to_a_name_in_scope():
    source = "{ config, pkgs, ... }:\nlet\n  myPackages = [ pkgs.hello ];\nin\n{\n  environment.systemPackages = myPackges;\n}\n"
    (problem,) = scope_problems(Document(URI, source))
    assert problem.message == "undefined variable `myPackges`: did you mean `myPackages`?"
    assert problem.fixes[0].title == "Change to `myPackages`" and problem.fixes[0].preferred
    fixed = _fixed(source)
    assert "= myPackages;" in fixed and found(fixed) == [] and _parses_cleanly(fixed)
    assert _fixed("x: toStrin x") == "x: toString x"


def test_package_fix_and_styles():
    source = MODULE.replace("{}", "fierfox")
    doc = Document(URI, source)
    (friendly,) = scope_problems(doc, USER_PACKAGES, "friendly")
    assert friendly.message == "`fierfox` is not a package in your nixpkgs: did you mean `firefox`?"
    assert friendly.severity.name == "WARNING" and friendly.fixes[0].title == "Change to `firefox`"
    (concise,) = scope_problems(doc, USER_PACKAGES, "concise")
    assert concise.message == "`fierfox` is not a package in your nixpkgs"
    fixed = _fixed(source, packages=USER_PACKAGES)
    assert "[ firefox ]" in fixed and found(fixed, USER_PACKAGES) == []


def test_document_problems_shows_them_only_when_the_text_parses():
    assert [p.code for p in document_problems(Document(URI, "{ a = b; }"))] == [U]
    assert [p.code for p in document_problems(Document(URI, "{ a = b }"))] == ["syntax-error"]


# -- top-level names against the real Nix ---------------------------------------------------------------------


def _nix_accepts(expression: str) -> bool:
    return subprocess.run(["nix-instantiate", "--parse", "-E", expression], capture_output=True, check=False).returncode == 0


@needs_nix
def test_top_level_names_are_nix_28s():
    raw = subprocess.run(["nix-instantiate", "--eval", "--json", "-E", "builtins.attrNames builtins"],
                         capture_output=True, text=True, check=True).stdout
    builtins_names = __import__("json").loads(raw)
    candidates = sorted({*builtins_names, *(f"__{n}" for n in builtins_names), "__curPos", *NEWER_GLOBALS})
    with ThreadPoolExecutor(4) as pool:
        accepted = {name for name, ok in zip(candidates, pool.map(_nix_accepts, candidates)) if ok}
    assert accepted == NIX_28_GLOBALS | NIX_28_PREFIXED
    assert not NEWER_GLOBALS & accepted, "a name listed as newer is already in Nix 2.8"
    for name in builtins_names:  # every builtin is in scope under one of its two names
        assert name in TOP_LEVEL_NAMES or f"__{name}" in TOP_LEVEL_NAMES


# -- agreement with the real Nix -------------------------------------------------------------------------------

POOL = ["a", "b", "c", "x", "pkgs", "map", "toString", "true", "__add", "__nope", "builtins", "y"]


def _expression(rng: random.Random, depth: int) -> str:
    if depth <= 0:
        return rng.choice(POOL + ["1", '"s"'])
    e = lambda: _expression(rng, depth - 1)  # noqa: E731
    name = lambda: rng.choice(POOL[:6])  # noqa: E731
    kind = rng.randrange(16)
    if kind == 0:
        return f"let {_bindings(rng, depth)} in {e()}"
    if kind == 1:
        return f"rec {{ {_bindings(rng, depth)} }}"
    if kind == 2:
        return f"{{ {_bindings(rng, depth)} }}"
    if kind == 3:
        return f"({name()}: {e()})"
    if kind == 4:
        first, second = rng.sample(POOL[:6], 2)
        default = f" ? {e()}" if rng.random() < 0.5 else ""
        universal = f"{rng.choice(['args', 'self'])}@" if rng.random() < 0.3 else ""
        return f"({universal}{{ {first}{default}, {second}, ... }}: {e()})"
    if kind == 5:
        return f"(with {e()}; {e()})"
    if kind == 6:
        return f"({e()}).${{{e()}}}"
    if kind == 7:
        return f"({e()}).q or {e()}"
    if kind == 8:
        return f'"s${{{e()}}}"'
    if kind == 9:
        return f"[ ({e()}) ({e()}) ]"
    if kind == 10:
        return f"({e()} {e()})"
    if kind == 11:
        return f"(if {e()} then {e()} else {e()})"
    if kind == 12:
        return f"let {{ {_bindings(rng, depth)} body = {e()}; }}"
    if kind == 13:
        return f"(assert {e()}; {e()})"
    if kind == 14:
        return f"({e()}) ? ${{{e()}}}"
    return rng.choice(POOL)


def _bindings(rng: random.Random, depth: int) -> str:
    names = rng.sample(POOL[:6], rng.randrange(1, 4))
    parts = []
    for name in names:
        kind = rng.randrange(5)
        if kind == 0:
            parts.append(f"inherit {name};")
        elif kind == 1:
            parts.append(f"inherit ({_expression(rng, depth - 1)}) {name};")
        elif kind == 2:
            parts.append(f'"{name}" = {_expression(rng, depth - 1)};')
        elif kind == 3:
            parts.append(f"{name}.q = {_expression(rng, depth - 1)};")
        else:
            parts.append(f"{name} = {_expression(rng, depth - 1)};")
    return " ".join(parts)


# Where we stay quiet on purpose although Nix 2.8 reports an undefined variable (see CASES).
QUIET_ON_PURPOSE = {'rec { "${"a"}" = 1; b = a; }', "[ break __warn __convertHash __getFlake __fetchClosure ]"}
SCOPE_SNIPPETS = [source for source, _ in CASES if source not in QUIET_ON_PURPOSE]
def _closed(rng: random.Random) -> str:
    """An expression under functions that bind some of the names, so that Nix accepts many of them."""
    names = rng.sample(POOL[:6] + ["y"], rng.randrange(3, 7))
    return "".join(f"{name}: " for name in names) + _expression(rng, 3)


GENERATED = [_expression(random.Random(seed), 3) for seed in range(400)]
GENERATED += [_closed(random.Random(seed)) for seed in range(1000, 1200)]


def _verdicts(source: str) -> tuple[str, set[str], object] | None:
    """Our undefined names and Nix's verdict, or None when either side sees some other problem first. Every
    fix we offer must leave a text that parses."""
    doc = Document(URI, source)
    problems = document_problems(doc, limit=1000)
    if any(p.code != U for p in problems):
        return None
    for fix in (fix for problem in problems for fix in problem.fixes):
        assert _parses_cleanly(apply_edits(doc.source, fix.edits).decode()), (source, fix)
    nix = nix_parse_problem(source.encode())
    if nix is not None and nix.code != U:
        return None
    return source, {doc.slice(p.start, p.end).strip('"') for p in problems}, nix


@needs_nix
def test_verdicts_agree_with_nix():
    snippets = [case.source for case in CORPUS] + SCOPE_SNIPPETS + GENERATED
    with ThreadPoolExecutor(4) as pool:
        compared = [v for v in pool.map(_verdicts, snippets) if v is not None]
    assert len(compared) >= 300, "too few snippets were comparable"
    assert sum(1 for _, ours, _ in compared if ours) >= 100, "too few with undefined names"
    assert sum(1 for _, ours, _ in compared if not ours) >= 100, "too few that Nix accepts"
    disagreements = []
    for source, ours, nix in compared:
        if nix is None and ours:
            disagreements.append(f"{source!r}: we report {sorted(ours)}, Nix accepts it")
        elif nix is not None and nix.message.split("`")[1] not in ours:
            disagreements.append(f"{source!r}: Nix says {nix.message}, we report {sorted(ours) or 'nothing'}")
    assert not disagreements, "\n".join(disagreements)
    print(f"{len(compared)} snippets compared, {sum(1 for _, ours, _ in compared if ours)} with undefined names")


# -- incremental checks equal whole-file checks -------------------------------------------------------------


def _edits(rng: random.Random, text: str) -> tuple[int, int, str]:
    """A typing-like change: a letter in or after a name, a deleted character, or a scope written in."""
    at = rng.randrange(len(text))
    kind = rng.randrange(6)
    if kind == 0:
        return at, at + 1, ""
    if kind == 1:
        return at, at, rng.choice(["let zz = 1; in ", "with pkgs; ", "zz: ", "rec "])
    if kind == 2:
        while at < len(text) and not text[at].isalpha():
            at += 1
        return at, at, rng.choice("ab_z")
    if kind == 3:
        return at, at, rng.choice([" ", "\n", "1"])
    if kind == 4:
        while at < len(text) and text[at] not in "=;":
            at += 1
        return at, at, rng.choice([" pkgs.", " lib.x", " zz "])
    return at, min(at + rng.randrange(1, 20), len(text)), ""


@pytest.mark.parametrize("seed", range(6))
def test_incremental_findings_match_a_fresh_check(seed: int):
    rng = random.Random(seed)
    text = generate(300 if seed % 2 else 120, seed)
    doc = Document(URI, text)
    checked = with_findings = 0
    for step in range(250):
        start, end, new = _edits(rng, doc.text)
        start_position = doc.position_at(len(doc.text[:start].encode()), PositionEncoding.UTF32)
        end_position = doc.position_at(len(doc.text[:end].encode()), PositionEncoding.UTF32)
        doc.apply([Change(new, start_position, end_position)], step, PositionEncoding.UTF32)
        if rng.random() < 0.3 and doc.tree.root_node.has_error:
            doc = Document(URI, text)  # back to a text that parses now and then
        live = scope_problems(doc, USER_PACKAGES)
        if doc.tree.root_node.has_error:
            continue
        fresh = scope_problems(Document(URI, doc.source), USER_PACKAGES)
        assert [(p.start, p.end, p.message, p.fixes) for p in live] == [
            (p.start, p.end, p.message, p.fixes) for p in fresh], step
        checked += 1
        with_findings += bool(live)
    assert checked > 60 and with_findings >= 10


def _edit(doc: Document, needle: str, new: str, version: int) -> None:
    """Replace the first `needle` (bytes found in the document) with `new`, as an editor's change."""
    start = doc.source.index(needle.encode())
    span = (doc.position_at(start, PositionEncoding.UTF8), doc.position_at(start + len(needle), PositionEncoding.UTF8))
    doc.apply([Change(new, *span)], version, PositionEncoding.UTF8)


RENAMING = """{ pkgs, ... }:
let
  domain = "example.org";
  other = 1;
in
{
  a = domain;
  b = rec { c = domain; inherit domain; };
  d = let domain = 2; in domain;
  e = let { body = domain; };
}
"""


def test_renaming_a_let_binding_judges_its_reads_again():
    doc = Document(URI, RENAMING)
    assert scope_problems(doc) == []
    _edit(doc, "domain =", "domainName =", 2)  # undefined: `a`, the `inherit` (not `c`: it reads that), `body`
    live = [(doc.slice(p.start, p.end), p.message) for p in scope_problems(doc)]
    assert live == [("domain", "undefined variable `domain`: did you mean `domainName`?")] * 3
    assert [p.start for p in scope_problems(doc)] == [p.start for p in scope_problems(Document(URI, doc.source))]
    _edit(doc, "  other = 1;", "  other = 1;\n  domain = domainName;", 3)  # a new binding brings it back
    assert scope_problems(doc) == []
    _edit(doc, "  other = 1;\n", "", 4)
    _edit(doc, "in\n{", "  x = other;\nin\n{", 5)  # reads the binding just removed
    assert [(doc.slice(p.start, p.end)) for p in scope_problems(doc)] == ["other"]
    assert scope_problems(Document(URI, doc.source))[0].start == scope_problems(doc)[0].start


# -- the command line --------------------------------------------------------------------------------------------


def test_check_command_reports_undefined_variables_without_nix(tmp_path: Path):
    config = tmp_path / "configuration.nix"
    config.write_text("{ pkgs, ... }:\n{\n  environment.systemPackages = [ firefox ];\n}\n")
    result = subprocess.run([sys.executable, "-m", "nix_humanity_ls.cli", "check", "--no-nix", str(config)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert result.stdout == f"{config}:3:34: undefined variable `firefox`: nothing by this name is defined here\n"
