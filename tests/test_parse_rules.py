"""What Nix rejects although the grammar accepts it (`ide/parse_rules.py`): Nix's merge rules for attribute
sets, and the incremental bookkeeping that keeps the check cheap per keystroke.

The bookkeeping is tested the strong way: after every edit of a random editing session, the findings kept
up to date incrementally must equal those of a fresh check of the same text.
"""

from __future__ import annotations

import random
import re

import pytest

from nix_humanity_ls.ide import parse_rules
from nix_humanity_ls.ide.parse_rules import parse_rule_problems
from nix_humanity_ls.ide.syntax_errors import syntax_problems
from nix_humanity_ls.syntax.document import Change, Document, PositionEncoding

URI = "file:///tmp/nix-humanity-rules/configuration.nix"


def findings(doc: Document) -> list[tuple[int, int, str]]:
    return [(p.start, p.end, p.message) for p in parse_rule_problems(doc)]


def messages(source: str) -> list[str]:
    return [p.message for p in parse_rule_problems(Document(URI, source))]


# Nix 2.8's `addAttr`, case by case (the corpus test checks a few of these against the real Nix).
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{ a = 1; a = 2; }", ["`a` is already defined on line 1"]),
        ("{ a.b = 1; a.b = 2; }", ["`a.b` is already defined on line 1"]),
        ("{ a = 1; a.b = 2; }", ["`a.b` is already defined on line 1"]),
        ("{ a.b = 1; a = 2; }", ["`a` is already defined on line 1"]),
        ("{ a.b = 1; a.c = 2; }", []),
        ("{ a = { b = 1; }; a.c = 2; }", []),  # a path walks into a set literal
        ("{ a.c = 2; a = { b = 1; }; }", []),  # a set literal merges into a set a path made
        ("{ a = ({ b = 1; }); a.c = 2; }", []),  # parentheses are no node in Nix's tree
        ("{ a = rec { b = 1; }; a.c = 2; }", []),
        ("{ a = { b = 1; }; a = { c = 2; }; }", []),
        ("{ a = { b = 1; }; a = { b = 2; }; }", ["`a.b` is already defined on line 1"]),
        ("{ a = { b.c = 1; }; a = { b.d = 2; }; }",
         ["`a.b` is already defined on line 1: two `a = { … }` sets are merged only one level deep"]),
        ("{ a = { b = 1; } // { }; a.c = 2; }", ["`a.c` is already defined on line 1"]),  # `//` is no set literal
        ("{ a = let { body = { }; }; a.c = 2; }", ["`a.c` is already defined on line 1"]),
        ("{ inherit a; a.b = 1; }", ["`a.b` is already defined on line 1"]),
        ("{ inherit (x) a; a = { }; }", ["`a` is already defined on line 1"]),
        ('{ a = 1; "a" = 2; }', ['`"a"` is already defined on line 1']),
        ('{ ${"a"} = 1; a = 2; }', ["`a` is already defined on line 1"]),
        ("{ ${x} = 1; ${x} = 2; }", []),  # dynamic names are checked when evaluated
        ("{ a.${x} = 1; a.${x} = 2; }", []),
        ("{ ${''a''} = 1; a = 2; }", []),  # unclear across Nix versions: never reported
        ("let a = 1; a = 2; in a", ["`a` is already defined on line 1"]),
        ("let a.${x} = 1; in a", []),  # only a dynamic first name is refused in `let`
        ('let "${x}" = 1; in 1', ["`let` cannot define a computed name (`${…}`): use a plain name"]),
        ("{ a, b ? 1, ... }: a", []),
        ("{ a }@a: a", ["`a` names both the whole argument and one of its attributes (line 1)"]),
        ("9223372036854775807", []),
        ("-9223372036854775808", ["`9223372036854775808` is too large for a Nix integer (the largest is 9223372036854775807)"]),
        ("1.0e308", []),
        ("1.0e-310", ["`1.0e-310` is out of range for a Nix float"]),
        ('"./a/ and 99999999999999999999 in a string"', []),
        ("# ./a/ 99999999999999999999\n{ }", []),
        ("./a/${x}/", ["a path cannot end with `/`: write `./a/${x}`"]),
        ("~/a/", ["a path cannot end with `/`: write `~/a`"]),
        ("a // b", []),
    ],
)
def test_nix_rules(source: str, expected: list[str]):
    assert messages(source) == expected


BASE = """{ config, pkgs, lib, ... }:
let
  a = 1;
  b = { x = 1; y = { z = 2; }; };
  # a = 3;
in
{
  imports = [ ./hardware.nix ];
  services.openssh.enable = true;
  # services.openssh.enable = false;
  services.openssh = { ports = [ 22 ]; settings.PermitRootLogin = "no"; };
  services.nginx.virtualHosts."a.org" = { root = "/var/www"; };
  networking = { hostName = "nixos"; firewall.allowedTCPPorts = [ 80 443 ]; };
  # networking.hostName = "other";
  boot.loader.grub.device = "/dev/sda";
  users.users.alice = { isNormalUser = true; home = ./home/alice; };
  environment.etc."x".text = ''
    hello ${pkgs.hello}
  '';
  inherit (pkgs) lib2;
  x = rec { y = 1; z = 2; w = { q = 1; }; };
  x.v = 3;
  f = { p, q ? 1, ... }@args: p;
  h = let u = 1; v = { w = 1; }; in u;
  /* block
     c.d = 1; */
  c.d = 2;
  k1 = 1; k2 = 2; k3 = 3; k4 = 4; k5 = 5; k6 = 6; k7 = 7;
}
"""
LINES = [
    "  services.openssh.enable = false;\n", "  a = 2;\n", "  services = { foo = 1; };\n", "  inherit lib;\n",
    "  p = ./p/;\n", "  n = 99999999999999999999;\n", "  fl = 1.0e400;\n", "  f = { p, p }: 1;\n",
    "  users.users.alice = { };\n", "  x.y = 3;\n", "  b.x = 2;\n", "  boot = { loader = 1; };\n",
    "  services.openssh = { enable = true; };\n", "  x = { y = { z = 1; }; };\n", "  l = let q = 1; q = 2; in q;\n",
    "  # comment\n", "  inherit (pkgs) vim lib;\n", '  "a" = 1;\n', '  ${"x"} = 5;\n', '  networking.hostName = "h";\n',
]
WORDS = ["a", "b", "x", "y", "services", "openssh", "enable", "lib", "p", "q", "users", "boot", "z"]


def random_edit(rng: random.Random, text: str) -> tuple[int, int, str]:
    """An edit a person might make: add or delete a line, retype a name, (un)comment a line, open or close a
    comment or string somewhere, or type a stray character. Returns code-point offsets and new text."""
    lines = text.splitlines(keepends=True)
    starts = [sum(len(line) for line in lines[:i]) for i in range(len(lines))]
    choice = rng.random()
    if choice < 0.35:
        at = starts[rng.randrange(1, len(lines))]
        return at, at, rng.choice(LINES)
    if choice < 0.55 and len(lines) > 3:
        i = rng.randrange(1, len(lines) - 1)
        return starts[i], starts[i] + len(lines[i]), ""
    if choice < 0.85:
        start, end = rng.choice([m.span() for m in re.finditer(r"[a-z]+", text)])
        return start, end, rng.choice(WORDS)
    if choice < 0.92:
        i = rng.randrange(1, len(lines))
        hash_at = lines[i].find("#")
        if lines[i].lstrip().startswith("#"):
            return starts[i] + hash_at, starts[i] + hash_at + 1, ""
        return starts[i], starts[i], "#"
    at = rng.randrange(len(text) + 1)
    if choice < 0.95:
        return at, at, rng.choice(["/*", "*/", '"', "''", "${", "}", "# "])
    return at, min(len(text), at + rng.choice([0, 1, 2])), rng.choice(["", " ", "1", "\n", ";", "x"])


def apply(doc: Document, start: int, end: int, new: str) -> None:
    """Send the edit the way the server does: as an LSP change in UTF-16 positions."""
    text = doc.text
    where = [doc.position_at(len(text[:i].encode("utf-8")), PositionEncoding.UTF16) for i in (start, end)]
    doc.apply([Change(new, where[0], where[1])])


@pytest.mark.parametrize("index_min", [parse_rules._INDEX_MIN, 1], ids=["large sets indexed", "every set indexed"])
def test_incremental_equals_fresh(monkeypatch: pytest.MonkeyPatch, index_min: int):
    """Random editing sessions: after each edit that leaves the file free of syntax errors, the incremental
    findings equal a fresh check's. A broken state is repaired after a few edits, as a person would."""
    monkeypatch.setattr(parse_rules, "_INDEX_MIN", index_min)
    checked = with_findings = 0
    for seed in range(12):
        rng = random.Random(seed)
        doc, good, broken = Document(URI, BASE), BASE, 0
        state = None
        for step in range(120):
            apply(doc, *random_edit(rng, doc.text))
            if syntax_problems(doc):
                broken += 1
                if broken < 3:
                    continue
                apply(doc, 0, len(doc.text), good)
                broken = 0
            good = doc.text
            got = findings(doc)
            state = state or parse_rules._STATES[doc]
            assert parse_rules._STATES.get(doc) in (state, None), "the state is kept, not rebuilt"
            assert got == findings(Document(URI, doc.source)), f"seed {seed}, step {step}:\n{doc.text}"
            checked += 1
            with_findings += bool(got)
    assert checked > 500 and with_findings > 200, "the sessions must reach many checked states with findings"


def test_thirty_thousand_levels_deep():
    """A clash at the bottom of 30,000 nested sets is found, and found again after edits at both ends (a
    tree-sitter Query would stop capturing after 21,845 sets, and take seconds at this depth)."""
    depth = 30_000
    doc = Document(URI, "{a=" * depth + "{ b = 1; b = 2; }" + ";}" * depth)
    expected = ["`b` is already defined on line 1"]
    assert [p.message for p in parse_rule_problems(doc)] == expected
    apply(doc, 0, 0, "# top\n")
    apply(doc, len(doc.text), len(doc.text), "\n# end\n")
    assert [p.message for p in parse_rule_problems(doc)] == ["`b` is already defined on line 2"]
    assert findings(doc) == findings(Document(URI, doc.source))
