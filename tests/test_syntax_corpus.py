"""Our syntax verdict against the real Nix parser, on a corpus of valid and invalid snippets.

For every snippet, "ours" is `document_problems(Document(uri, source))`: an error when the list is not empty,
on the line of its first problem. "Nix" is `nix-instantiate --parse` (Nix 2.8), through the package's own
`nix_syntax_problem`, which reads Nix's JSON message and turns its line and column into a byte offset.
`--parse` also resolves variables and rejects a free one (`pkgs`, `x`), which is no syntax error;
`nix_syntax_problem` hands the snippet to Nix as `with {}; <snippet>` (see there), which leaves every other
objection and Nix's line numbers as they are. Only lines are compared.

Two tests share one comparison. `test_corpus_against_nix` asks the real Nix and needs `nix-instantiate`;
it also checks that each snippet's recorded Nix verdict (`nix=`) is what Nix says, so that the table stays
true. `test_corpus_against_recorded_nix` compares with the recorded verdicts and runs everywhere. Both print
every disagreement, fail on one that `KNOWN` does not list, and fail when a listed one has gone away.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import pytest

from nix_humanity_ls.ide.diagnostics import document_problems
from nix_humanity_ls.ide.nix_parse import nix_syntax_problem
from nix_humanity_ls.syntax.document import Document

URI = "file:///tmp/nix-humanity-corpus/snippet.nix"


class Case(NamedTuple):
    """A snippet, and the line on which Nix 2.8 rejects it (None: Nix accepts it)."""

    name: str
    source: str
    nix: int | None


CORPUS: tuple[Case, ...] = (
    # -- strings and interpolation
    Case("string with interpolation", '"hello ${name}"', None),
    Case("nested interpolation", '"a ${"b ${c} d"} e"', None),
    Case("adjacent interpolations", '"${a}${b}"', None),
    Case("escaped dollar", '"\\${not} $${y}"', None),
    Case("unterminated string", '"unterminated', 1),
    Case("unclosed interpolation in a string", '"x ${y"', 1),
    Case("indented string", "''\n  line ${x}\n''", None),
    Case("indented string escapes", "''\n  ''${literal} '''quote ''\\n\n''", None),
    Case("indented string interpolation only", "''${x}''", None),
    Case("unterminated indented string", "''\n  abc\n", 2),
    # -- paths, URIs
    Case("path with interpolation", "./a/${x}.nix", None),
    Case("path that is all interpolation", "./${x}", None),
    Case("home path", "~/p", None),
    Case("search path", "<nixpkgs>", None),
    Case("search path with a subpath", "<nixpkgs/lib>", None),
    Case("relative path without dot", "a/b.nix", None),
    Case("path with a trailing slash", "./a/", 1),
    Case("interpolated path with a trailing slash", "./a/${x}/", 1),
    Case("path with a double slash", "./a//b", 1),
    Case("uri", "https://example.org/a?b=c", None),
    Case("uri that looks like a lambda", "x:x", None),
    # -- or, ?
    Case("select with or", "a.b or null", None),
    Case("or as an attribute name", "{ or = 1; }.or", None),
    Case("has attribute path", "x ? a.b", None),
    Case("has attribute interpolated", 'x ? "${y}"', None),
    Case("has attribute without a name", "x ?", 1),
    # -- inherit
    Case("inherit from", "{ inherit (x) a b; }", None),
    Case("inherit from a path", "{ inherit (x.y) a; }", None),
    Case("inherit nothing", "{ inherit; }", None),
    Case("inherit a dotted name", "{ inherit a.b; }", 1),
    Case("inherit a computed name", "{ inherit ${x}; }", 1),
    Case("inherit and define the same name", "{ inherit (pkgs) vim; vim = 1; }", 1),
    # -- rec, let, assert, with
    Case("rec set", "rec { a = 1; b = a; }", None),
    Case("rec set missing semicolon", "rec { a = 1 }", 1),
    Case("let", "let a = 1; in a", None),
    Case("empty let", "let in 1", None),
    Case("legacy let", "let { body = 1; }", None),
    Case("let missing semicolon", "let a = 1 in a", 1),
    Case("let without in", "let a = 1;", 1),
    Case("let missing semicolon over lines", "let\n  a = 1;\n  b = 2\nin a + b", 4),
    Case("let with a computed name", "let ${x} = 1; in 1", 1),
    Case("let defines a name twice", "let a = 1; a = 2; in a", 1),
    Case("assert", "assert x; 1", None),
    Case("assert without semicolon", "assert x 1", 1),
    Case("with", "with pkgs; [ vim ]", None),
    Case("with without semicolon", "with pkgs [ vim ]", 1),
    # -- comments
    Case("line comment", "# line\n1", None),
    Case("block comment", "/* block */ 1", None),
    Case("block comments do not nest", "/* a /* b */ 1", None),
    Case("trailing comment", "1 # trailing", None),
    Case("unterminated block comment", "/* unterminated\n1", 1),
    Case("empty file", "", 1),
    Case("comment-only file", "# nothing here\n", 1),
    # -- numbers
    Case("float without integer part", ".5", None),
    Case("float without fraction", "2.", None),
    Case("float with exponent", "1.5e3", None),
    Case("float out of range", "1.0e400", 1),
    Case("largest integer", "9223372036854775807", None),
    Case("integer too large", "99999999999999999999", 1),
    Case("negative number in a list", "[ -1 ]", 1),
    Case("double negation", "(- -5)", None),
    Case("dash inside an identifier", "a-b", None),
    # -- functions
    Case("formals with default and ellipsis", "{ a, b ? 1, ... }: a", None),
    Case("named formals before", "args@{ a, ... }: a", None),
    Case("named formals after", "{ a, ... }@args: a", None),
    Case("curried lambda", "x: y: x + y", None),
    Case("trailing comma after the last parameter (nixfmt style)", "{\n  lib,\n  stdenv,\n}:\nstdenv", None),
    Case("trailing comma after a single parameter", "x@{ a, }: a", None),
    Case("trailing comma before a comment", "{\n  lib,\n  stdenv, # the compiler\n  # more later\n}:\nstdenv", None),
    Case("comma after the ellipsis", "{ a, ..., }: a", 1),
    Case("double comma in formals", "{ a,, b }: a", 1),
    Case("missing comma in formals", "{ a b }: a", 1),
    Case("parameter listed twice", "{ a, a }: a", 1),
    Case("argument name is also a parameter", "x@{ x }: x", 1),
    Case("lambda without body", "x: ", 1),
    # -- other
    Case("keyword as attribute name", "{ if = 1; }", 1),
    Case("trailing semicolon after a set", "{ a = 1; } ;", 1),
    Case("unclosed parenthesis", "(1 + 2", 1),
    Case("pipe operator (newer Nix only)", "a |> f", 1),
    Case("computed name that is a string", "{ ${\"x\"} = 1; x = 2; }", 1),
    Case("computed name from an indented string", "{ ${''a''} = 1; a = 2; }", 1),
    Case("quoted and plain name clash", '{ a = 1; "a" = 2; }', 1),
    Case("non-ASCII before a missing semicolon", '{ name = "é"; x = 1 y = 2; }', 1),
    # -- realistic NixOS configuration mistakes
    Case(
        "config: missing semicolon",
        '{ config, pkgs, ... }:\n{\n  services.openssh.enable = true\n  networking.hostName = "nixos";\n}\n',
        4,
    ),
    Case("config: missing semicolon before }", "{\n  services.openssh.enable = true\n}\n", 3),
    Case(
        "config: unclosed list",
        '{\n  environment.systemPackages = with pkgs; [\n    firefox\n\n  time.timeZone = "UTC";\n}\n',
        5,
    ),
    Case("config: unclosed nested set", "{\n  a = {\n    b = 1;\n  c = 2;\n}\n", 5),
    Case("config: unclosed parenthesis", "{\n  a = (1 + 2;\n}\n", 2),
    Case("config: comma instead of semicolon", "{\n  a = 1,\n  b = 2;\n}\n", 2),
    Case("config: stray closing brace", "{\n  a = 1;\n}\n}\n", 4),
    Case("config: unterminated string", '{\n  a = "x;\n  b = 2;\n}\n', 2),
    Case("config: if without else", "{\n  a = if x then 1;\n}\n", 2),
    Case("config: attribute defined twice", "{\n  a = 1;\n  a = 2;\n}\n", 3),
    Case(
        "config: option set twice",
        "{\n  services.openssh.enable = true;\n  services.openssh.enable = false;\n}\n",
        3,
    ),
    Case(
        "config: option set inside and outside its set",
        "{\n  services = { openssh.enable = true; };\n  services.openssh.enable = false;\n}\n",
        3,
    ),
    Case(
        "config: set and dotted path merge",
        "{\n  services = { openssh.enable = true; };\n  services.nginx.enable = true;\n}\n",
        None,
    ),
    Case(
        "config: two sets merge one level only",
        '{\n  services.nginx = { virtualHosts.a.root = "/a"; };\n  services.nginx = { virtualHosts.b.root = "/b"; };\n}\n',
        2,
    ),
    Case("config: integer too large", '{\n  boot.kernel.sysctl."x" = 99999999999999999999;\n}\n', 2),
    Case("config: path with a trailing slash", "{\n  imports = [ ./hardware/ ];\n}\n", 2),
    Case("config: half-typed attribute path", "{\n  services.openssh.\n}\n", 3),
    Case("config: CRLF missing semicolon", "{\r\n  a = 1\r\n  b = 2;\r\n}\r\n", 3),
)

# Where we knowingly differ from Nix 2.8, and why. "verdict": one side accepts what the other rejects.
# "line": both reject, on different lines. A stale entry (the two now agree) fails the tests too.
_AFTER_THE_MISTAKE = (
    "Nix reports the token where it gave up, after the mistake; we point where the fix goes"
)
_AT_END_OF_FILE = "Nix reports where the file ends; we point at the quote left open, or where the missing `}` belongs"
KNOWN: dict[str, tuple[str, str]] = {
    "path with a double slash": (
        "verdict",
        "tree-sitter-nix reads `./a//b` as one path; Nix 2.8 rejects `//` inside a path. Rare enough not to check",
    ),
    "computed name from an indented string": (
        "verdict",
        "whether `${''a''}` is a static name differs between Nix versions, so we never report it (no false alarm)",
    ),
    "let missing semicolon over lines": ("line", _AFTER_THE_MISTAKE),
    "config: missing semicolon": ("line", _AFTER_THE_MISTAKE),
    "config: missing semicolon before }": ("line", _AFTER_THE_MISTAKE),
    "config: CRLF missing semicolon": ("line", _AFTER_THE_MISTAKE),
    "config: unclosed list": ("line", _AFTER_THE_MISTAKE),
    "config: unclosed nested set": ("line", _AT_END_OF_FILE),
    "config: half-typed attribute path": ("line", _AFTER_THE_MISTAKE),
    "unterminated indented string": ("line", _AT_END_OF_FILE),
    "config: two sets merge one level only": (
        "line",
        "when two `x = { … }` sets clash, Nix 2.8 points at the first definition; we point at the second",
    ),
}


def our_line(source: str) -> int | None:
    """Line (1-based) of our first problem, None when we see none. Undefined variables are left out, as on
    Nix's side (tests/test_scope_check.py compares those with Nix)."""
    doc = Document(URI, source)
    problems = [p for p in document_problems(doc) if p.code != "undefined-variable"]
    return doc.line_of(problems[0].start) + 1 if problems else None


def nix_line(source: str) -> int | None:
    """Line (1-based) where the real Nix rejects `source` as syntax, None when it accepts it."""
    problem = nix_syntax_problem(source.encode("utf-8"))
    return Document(URI, source).line_of(problem.start) + 1 if problem is not None else None


def disagreement(ours: int | None, nix: int | None) -> str | None:
    """How two verdicts differ: "verdict", "line", or None when they agree."""
    if (ours is None) != (nix is None):
        return "verdict"
    if ours is not None and ours != nix:
        return "line"
    return None


def compare(nix_lines: dict[str, int | None]) -> list[str]:
    """Compare our verdict with `nix_lines` for every case: print a report and return the failures."""
    report, failures = [], []
    for case in CORPUS:
        ours, nix = our_line(case.source), nix_lines[case.name]
        kind = disagreement(ours, nix)
        known = KNOWN.get(case.name)
        if kind is not None:
            report.append(f"{case.name}: {case.source!r}\n    ours: {_verdict(ours)}   nix: {_verdict(nix)}"
                          f"   ({'known: ' + known[1] if known else 'NOT LISTED'})")
        if kind is not None and (known is None or known[0] != kind):
            failures.append(f"{case.name}: {kind} disagreement not listed as such in KNOWN")
        if known is not None and kind is None:
            failures.append(f"{case.name}: listed in KNOWN, but ours and Nix now agree: remove it")
    print(f"\n{len(report)} disagreement(s) in {len(CORPUS)} snippets:\n" + "\n".join(report))
    return failures


def _verdict(line: int | None) -> str:
    return "ok" if line is None else f"error on line {line}"


def test_corpus_is_large_and_consistent():
    """The corpus covers enough ground, names are unique, and KNOWN only names snippets that exist."""
    names = [case.name for case in CORPUS]
    assert len(names) >= 70
    assert len(set(names)) == len(names)
    assert set(KNOWN) <= set(names)
    assert {kind for kind, _reason in KNOWN.values()} <= {"verdict", "line"}


def test_corpus_against_recorded_nix():
    """Our verdicts against the Nix verdicts recorded in the corpus (runs without Nix installed)."""
    failures = compare({case.name: case.nix for case in CORPUS})
    assert not failures, "\n".join(failures)


def test_corpus_against_nix():
    """Our verdicts against the real `nix-instantiate --parse`, and the recorded verdicts against it too."""
    if shutil.which("nix-instantiate") is None:
        pytest.skip("nix-instantiate is not on PATH: cannot ask the real Nix parser")
    with ThreadPoolExecutor(max_workers=8) as pool:
        lines = dict(zip((case.name for case in CORPUS), pool.map(nix_line, (case.source for case in CORPUS))))
    stale = [f"{case.name}: recorded nix={case.nix}, Nix says {lines[case.name]}"
             for case in CORPUS if lines[case.name] != case.nix]
    failures = compare(lines)
    assert not stale, "recorded Nix verdicts are out of date:\n" + "\n".join(stale)
    assert not failures, "\n".join(failures)
