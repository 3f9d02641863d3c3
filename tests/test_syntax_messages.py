"""The words and places of syntax problems: each snippet gets exactly the listed problems.

A place is the 1-based `line:column` where a problem starts, the column counted in characters (code points,
`PositionEncoding.UTF32`), as `nix-humanity check` prints it. Snippets are what people type into a NixOS
configuration, half-finished ones included.
"""

from __future__ import annotations

import pytest

from nix_humanity_ls.ide.diagnostics import document_problems
from nix_humanity_ls.ide.syntax_errors import syntax_problems
from nix_humanity_ls.syntax.document import Document, PositionEncoding

URI = "file:///tmp/nix-humanity-messages/configuration.nix"

# (name, snippet, [(line:column, message), …])
CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    # -- missing `;`
    ("missing semicolon after an option",
     '{\n  services.openssh.enable = true\n  networking.hostName = "nixos";\n}\n',
     [("2:29", "missing `;` after the value of `services.openssh.enable`")]),
    ("missing semicolon in a nested set",
     "{ a = { b = { c = 1 d = 2; }; }; }",
     [("1:19", "missing `;` after the value of `a.b.c`")]),
    ("several missing semicolons name their own bindings",
     "{\n  a = 1\n  b = 2\n  c = 3\n}\n",
     [("2:7", "missing `;` after the value of `a`"), ("3:7", "missing `;` after the value of `b`"),
      ("4:7", "missing `;` after the value of `c`")]),
    ("missing semicolon before in", "let\n  a = 1\nin a\n", [("2:7", "missing `;` before `in`")]),
    ("missing semicolon after inherit", "{ inherit a }", [("1:11", "missing `;` at the end of `inherit`")]),
    ("comma instead of semicolon",
     '{\n  networking.hostName = "nixos",\n  time.timeZone = "UTC";\n}\n',
     [("2:32", "end the value of `networking.hostName` with `;`, not `,`")]),
    ("extra semicolon", "{ a = 1;; }", [("1:9", "extra `;`")]),
    # -- brackets and quotes left open or closed twice
    ("unclosed list swallowing the next binding",
     ('{ pkgs, ... }:\n{\n  environment.systemPackages = with pkgs; [\n    firefox\n    git\n\n'
      '  time.timeZone = "UTC";\n}\n'),
     [("5:5", "unclosed `[` opened on line 3: add `]` after `git`")]),
    ("unclosed list before the closing brace",
     "{\n  imports = [\n    ./hardware-configuration.nix\n\n}\n",
     [("3:5", "unclosed `[` opened on line 2: add `]` after `./hardware-configuration.nix`")]),
    ("unclosed nested set, told by indentation",
     "{\n  a = {\n    b = 1;\n  c = 2;\n}\n",
     [("3:10", "unclosed `{` opened on line 2: add `}` at the end of line 3")]),
    ("unclosed parenthesis", "{\n  a = (1 + 2;\n}\n", [("2:12", "unclosed `(` opened on line 2: add `)` after `2`")]),
    ("unclosed parenthesis swallowing the next binding",
     "{\n  a = (1 + 2\n  b = 2;\n}",
     [("2:12", "unclosed `(` opened on line 2: add `)` after `2`")]),
    ("wrong closing bracket", "{\n  a = [\n    1\n  );\n}", [("4:3", "`)` does not match the `[` opened on line 2: write `]`")]),
    ("file ends inside a set", "{ a = { b = 1; }",
     [("1:1", "the file ends before the `{` opened on line 1 is closed: add `}`")]),
    ("stray closing brace", "{\n  a = 1;\n}\n}\n", [("4:1", "unexpected `}`: it closes nothing")]),
    ("unterminated string", '{\n  a = "x;\n  b = 2;\n}\n',
     [("2:7", 'unterminated string: the `"` on line 2 has no closing `"`')]),
    ("unterminated comment", "/* forgot to close\n{ }\n", [("1:1", "unterminated comment: `/*` has no closing `*/`")]),
    # -- half-typed lines
    ("half-typed attribute path", "{\n  services.openssh.\n}\n",
     [("2:19", "missing attribute name after `services.openssh.`")]),
    ("half-typed binding", "{\n  services.openssh.enable =\n}\n",
     [("2:27", "missing value after `services.openssh.enable =`")]),
    ("value swallowed the next line",
     '{\n  services.openssh.enable =\n  networking.hostName = "x";\n}\n',
     [("2:27", "missing value after `services.openssh.enable =`")]),
    ("name without a value", "{ a = 1; b }", [("1:10", "`b` needs a value: write `b = …;`")]),
    ("operator without its right side", "{ a = 1 + ; }", [("1:9", "missing expression after `+`")]),
    ("negation without operand", "{ a = !; }", [("1:7", "missing expression after `!`")]),
    ("function without body", "{ pkgs, ... }: ", [("1:14", "missing the function body after `:`")]),
    # -- keywords
    ("if without else", "{\n  a = if x then 1;\n}\n", [("2:3", "`if … then …` needs an `else` branch")]),
    ("if without then", "if x 1 else 2", [("1:1", "`if` needs `then` after its condition: `if condition then a else b`")]),
    ("assert without semicolon", "assert x 1",
     [("1:1", "`assert` needs `;` after its condition: `assert condition; expression`")]),
    ("with without semicolon", "with pkgs [ vim ]", [("1:1", "`with` needs `;` after its set: `with pkgs; [ … ]`")]),
    ("missing comma between parameters", "{ a b }: a", [("1:5", "missing `,` before `b`")]),
    ("interpolation outside a string", "{ a = ${x}; }",
     [("1:7", ("`${…}` works only inside a string, a path or an attribute name: "
               "write `\"${…}\"`, or the expression without `${ }`"))]),
    # -- what Nix rejects although the grammar accepts it
    ("option set twice",
     "{\n  services.openssh.enable = true;\n  services.openssh.enable = false;\n}\n",
     [("3:3", "`services.openssh.enable` is already defined on line 2")]),
    ("option set inside and outside its set",
     "{\n  services = { openssh.enable = true; };\n  services.openssh.enable = false;\n}\n",
     [("3:3", "`services.openssh.enable` is already defined on line 2")]),
    ("two sets merged one level only",
     '{\n  services.nginx = { virtualHosts.a.root = "/a"; };\n  services.nginx = { virtualHosts.b.root = "/b"; };\n}\n',
     [("3:22", ("`services.nginx.virtualHosts` is already defined on line 2: "
                "two `services.nginx = { … }` sets are merged only one level deep"))]),
    ("inherited and defined", "{ inherit (builtins) vim; vim = 1; }", [("1:27", "`vim` is already defined on line 1")]),
    ("parameter listed twice", "{ a, b, a }: a", [("1:9", "the parameter `a` is already listed on line 1")]),
    ("argument name is also a parameter", "x@{ x }: x",
     [("1:1", "`x` names both the whole argument and one of its attributes (line 1)")]),
    ("computed name in let", "x: let ${x} = 1; in 1", [("1:8", "`let` cannot define a computed name (`${…}`): use a plain name")]),
    ("computed name in inherit", "x: { inherit ${x}; }",
     [("1:14", "`inherit` takes plain names only, not `${…}` or strings with `${…}`")]),
    ("path with a trailing slash", "{\n  imports = [ ./hardware/ ];\n}\n",
     [("2:15", "a path cannot end with `/`: write `./hardware`")]),
    ("integer too large", '{\n  boot.kernel.sysctl."x" = 99999999999999999999;\n}\n',
     [("2:28", "`99999999999999999999` is too large for a Nix integer (the largest is 9223372036854775807)")]),
    ("float out of range", "{ a = 1.0e400; }", [("1:7", "`1.0e400` is out of range for a Nix float")]),
    ("empty file", "", [("1:1", "the file is empty: Nix needs an expression here, such as `{ }`")]),
    ("comment-only file", "# nothing here yet\n",
     [("1:19", "the file holds only comments: Nix needs an expression here, such as `{ }`")]),
    # -- columns count characters; CRLF lines count once
    ("non-ASCII text before the problem",
     '{\n  description = "café ☕ 😀"; x = 1 y = 2;\n}\n',
     [("2:33", "missing `;` after the value of `x`")]),
    ("CRLF missing semicolon",
     '{\r\n  services.openssh.enable = true\r\n  networking.hostName = "nixos";\r\n}\r\n',
     [("2:29", "missing `;` after the value of `services.openssh.enable`")]),
    ("CRLF duplicate", "{\r\n  a = 1;\r\n  a = 2;\r\n}\r\n", [("3:3", "`a` is already defined on line 2")]),
    # -- valid Nix gets nothing
    ("inherit with no names", "{ inherit; }", []),
    ("trailing comma after the last parameter", "{\n  lib,\n  stdenv ? null,\n}:\n{ }\n", []),
    ("sets merged without a clash",
     "{\n  services = { openssh.enable = true; };\n  services.nginx.enable = true;\n}\n", []),
]


def places(doc: Document) -> list[tuple[str, str]]:
    """(line:column, message) of each problem, the column in characters."""
    found = []
    for problem in document_problems(doc):
        position = doc.position_at(problem.start, PositionEncoding.UTF32)
        found.append((f"{position.line + 1}:{position.character + 1}", problem.message))
    return found


@pytest.mark.parametrize(("source", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_message(source: str, expected: list[tuple[str, str]]):
    assert places(Document(URI, source)) == expected


def test_enough_cases():
    assert len(CASES) >= 25
    assert len({name for name, _source, _expected in CASES}) == len(CASES)


def test_half_typed_line_does_not_flood():
    """A line typed halfway, full of broken pieces, still shows one problem per line at most."""
    doc = Document(URI, (
        "{\n"
        "  services.openssh = { enable = tr\n"
        '  networking = { hostName = "x" firewall = [ 22 ( ; };\n'
        "  users.users.alice.isNormalUser = [ { ( , = ;\n"
        "}\n"
    ))
    lines = [doc.line_of(problem.start) for problem in document_problems(doc)]
    assert lines, "the broken lines must be reported"
    assert len(lines) == len(set(lines))


def test_problem_count_is_capped():
    """Fifty broken lines show `limit` problems, the first ones."""
    doc = Document(URI, "{\n" + "".join(f"  a{i} = {i}\n" for i in range(50)) + "}\n")
    problems = syntax_problems(doc, limit=5)
    assert [doc.line_of(p.start) + 1 for p in problems] == [2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("source", "message_start"),
    [
        ("{ a = " * 10_000 + "1 b = 2; }" * 10_000, "missing `;` after the value of `…a.a.a"),
        ("(" * 10_000 + ")" * 9_999, "missing expression after `(`"),
        ("{ a = " * 10_000 + "; }" * 10_000, "missing value after `…a.a.a"),
    ],
    ids=["missing semicolon", "missing closing parenthesis", "missing value"],
)
def test_ten_thousand_levels_deep(source: str, message_start: str):
    """Deeply nested broken files get one readable problem, without recursion or a crash (a MISSING node that
    deep used to crash the process through `Node.parent`)."""
    (problem,) = document_problems(Document(URI, source))
    assert problem.message.startswith(message_start)
