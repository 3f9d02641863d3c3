"""The documentation says what the code has: every setting, subcommand and option, LSP method and command,
diagnostic code, finding kind, module and benchmark script is where a reader looks for it, and nothing is
documented that the code does not have. Each failure names what is missing and where."""

from __future__ import annotations

import argparse
import ast
import json
import re
from pathlib import Path

import attrs
import pytest

from nix_humanity_ls import settings as settings_module
from nix_humanity_ls.cli import build_parser
from nix_humanity_ls.ide.problem import Problem
from nix_humanity_ls.rebuild.explain_kinds import KINDS

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "nix_humanity_ls"


def read(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text under `heading` up to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(heading + "\n") + len(heading)
    end = re.search(rf"^#{{1,{level}}} ", text[start:], re.M)
    return text[start:start + end.start()] if end else text[start:]


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the Markdown tables in `text`, as lists of cells."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not re.match(r"^\|[-| ]+\|$", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return [row for row in rows if row[0] not in ("key", "code", "kind", "module", "command", "fix")]


def ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


# ---- settings ⇄ docs/settings.md -------------------------------------------------------------------------------

def settings_fields(cls: type = settings_module.Settings, prefix: str = "") -> dict[str, attrs.Attribute]:
    found: dict[str, attrs.Attribute] = {}
    for field in attrs.fields(cls):
        key = prefix + settings_module._camel(field.name)
        nested = field.type if isinstance(field.type, type) and attrs.has(field.type) else None
        if nested is not None:
            found.update(settings_fields(nested, key + "."))
        else:
            found[key] = field
    return found


def documented_settings() -> dict[str, list[str]]:
    rows = table_rows(read("docs/settings.md"))
    return {ticked(row[0])[0]: row for row in rows if ticked(row[0])}


def test_every_setting_is_documented_with_its_default():
    documented = documented_settings()
    defaults = settings_module.unstructure(settings_module.Settings())
    for key, field in settings_fields().items():
        assert key in documented, f"docs/settings.md has no row for the setting `{key}` (settings.py: {field.name})"
        value: object = defaults
        for part in key.split("."):
            value = value[part]  # type: ignore[index]
        expected = f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else json.dumps(value)
        default_cell = documented[key][2]
        assert f"`{expected}`" == default_cell, \
            f"docs/settings.md says the default of `{key}` is {default_cell}, settings.py says `{expected}`"
        if field.validator is not None:
            assert "> 0" in documented[key][1], f"docs/settings.md: `{key}` must be > 0 (settings.py validates it)"
        enum = field.type if isinstance(field.type, type) and issubclass(field.type, settings_module.enum.Enum) else None
        for member in enum or ():
            assert f'`"{member.value}"`' in documented[key][1], \
                f"docs/settings.md: the type of `{key}` does not list the value {member.value!r}"


def test_nothing_documented_is_missing_from_the_settings():
    known = settings_fields()
    for key in documented_settings():
        assert key in known, f"docs/settings.md documents `{key}`, which nix_humanity_ls/settings.py does not have"


# ---- `nix-humanity` subcommands and options ⇄ README -----------------------------------------------------------

def subcommands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def usage_text() -> str:
    return section(read("README.md"), "## Using it")


def test_every_subcommand_and_option_is_in_the_readme_usage():
    items = re.split(r"\n  - (?=`nix-humanity )", usage_text())  # one list item per command (or group)
    for name, parser in subcommands().items():
        word = rf"{re.escape(name)}(?=[\s|`])"
        item = next((i for i in items if re.match(rf"`nix-humanity (?:[a-z-]+\|)*{word}", i)), None)
        if item is None:  # named later in a group's item (`… , nix-humanity history [--json]`)
            item = next((i for i in items if re.search(rf"`nix-humanity {word}", i)), None)
        assert item is not None, f"README.md (Using it) does not describe `nix-humanity {name}`"
        for action in parser._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in item, f"README.md (Using it) does not mention `{flag}` of `nix-humanity {name}`"


def test_every_option_of_the_server_is_in_the_readme():
    from nix_humanity_ls.lsp.main import build_parser as server_parser

    item = next(i for i in usage_text().split("\n- ") if i.startswith("**Any LSP client**"))
    for action in server_parser()._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert f"`{flag}" in item, f"README.md (Using it, Any LSP client) does not mention `nix-humanity-ls {flag}`"


def test_exit_codes_in_the_help_are_those_of_the_code():
    from nix_humanity_ls.cli import EXIT_CODES
    from nix_humanity_ls.cli_rebuild import EXIT

    commands = subcommands()
    ask_help = commands["ask"].description
    for status, code in (("applied", 0), ("ambiguous", 2), ("not understood", 3), ("error", 1)):
        assert EXIT_CODES[status.replace(" ", "_")] == code and f"{code} {status}" in ask_help, \
            f"`nix-humanity ask --help` should say exit {code} for {status}"
    for status, code in EXIT.items():
        words = {"ok": "done", "error": "failed", "unsupported": "failed", "needs-root": "root needed",
                 "timed-out": "timed out"}.get(status, status)
        for where, text in (("`nix-humanity build --help`", commands["build"].description),
                            ("README.md", " ".join(usage_text().split())),
                            ("docs/rebuild.md", " ".join(read("docs/rebuild.md").split()))):
            assert re.search(rf"\b{code} {words}", " ".join(text.split())), \
                f"{where} does not say that exit status {code} means {words} ({status})"


# ---- LSP methods and commands ⇄ README -------------------------------------------------------------------------

def test_every_lsp_method_and_command_is_in_the_readme():
    from nix_humanity_ls.lsp.server import server

    readme = read("README.md")
    features = server.protocol.fm.features
    for method in sorted(set(features) - {"initialize", "initialized"}):
        assert f"`{method}`" in readme, f"README.md does not list the LSP method `{method}` the server registers"
    for command in sorted(server.protocol.fm.commands):
        assert f"`{command}`" in readme, f"README.md does not list the command `{command}` the server registers"
    for named in set(re.findall(r"`(nixHumanity\.\w+)`", readme)):
        assert named in server.protocol.fm.commands, f"README.md names `{named}`, which the server does not have"


# ---- diagnostic codes ⇄ docs/diagnostics.md ---------------------------------------------------------------------

# the calls that give a problem its code, and the code's position among their arguments
_CODE_ARGUMENT = {"Problem": 4}
_CODE_ARGUMENT_IN = {"parse_rules.py": {"_Finding": 2, "_report": 2}, "option_types.py": {"Mismatch": 1}}


def emitted_codes() -> set[str]:
    """Every code a checker under ide/ can give a problem, read from the calls that make them."""
    codes = {Problem(0, 0, "").code}  # the default: syntax errors
    for path in sorted((PACKAGE / "ide").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants: dict[str, str] = {}
        for node in tree.body:  # NAME = "x" and A, B = "x", "y"
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                    for name, value in zip(names, values):
                        if isinstance(name, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
                            constants[name.id] = value.value
        parameters = {id(call): {a.arg for a in function.args.args}  # a code handed on from the caller
                      for function in ast.walk(tree) if isinstance(function, ast.FunctionDef)
                      for call in ast.walk(function) if isinstance(call, ast.Call)}
        positions = {**_CODE_ARGUMENT, **_CODE_ARGUMENT_IN.get(path.name, {})}
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            callee = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)
            if callee not in positions:
                continue
            given = next((k.value for k in call.keywords if k.arg == "code"), None)
            if given is None and len(call.args) > positions[callee]:
                given = call.args[positions[callee]]
            if isinstance(given, ast.Constant):
                codes.add(given.value)
            elif isinstance(given, ast.Name) and given.id in parameters.get(id(call), ()):
                pass  # the calls that pass it are counted
            elif isinstance(given, ast.Name):
                assert given.id in constants, f"{path.name}:{call.lineno}: cannot read the code `{given.id}`"
                codes.add(constants[given.id])
            else:  # self.code, mismatch.code, _code(message): made by a call counted above
                assert given is None or isinstance(given, (ast.Attribute, ast.Call)), \
                    f"{path.name}:{call.lineno}: a code this test cannot read; teach emitted_codes() its form"
    return codes


def test_every_diagnostic_code_is_documented_with_its_severity():
    codes = emitted_codes()
    assert {"syntax-error", "undefined-variable", "unknown-option", "old-package-name", "wrong-type"} <= codes
    rows = table_rows(section(read("docs/diagnostics.md"), "## Every code"))
    documented = {code: row for row in rows for code in ticked(row[0])}
    for code in sorted(codes):
        assert code in documented, f"docs/diagnostics.md (Every code) has no row for the code `{code}`"
        assert re.search(r"\b(error|warning)\b", documented[code][1]), \
            f"docs/diagnostics.md (Every code) gives no severity for `{code}`"
    for code in documented:
        assert code in codes, f"docs/diagnostics.md lists the code `{code}`, which no checker in ide/ gives"


# ---- finding kinds ⇄ docs/errors.md -----------------------------------------------------------------------------

def test_every_finding_kind_is_in_docs_errors():
    rows = table_rows(section(read("docs/errors.md"), "## The kinds"))
    documented = [kind for row in rows for kind in ticked(row[0])[:1]]
    for kind in KINDS:
        assert kind in documented, f"docs/errors.md (The kinds) has no row for the kind `{kind}` (explain_kinds.py)"
    for kind in documented:
        assert kind in KINDS, f"docs/errors.md documents the kind `{kind}`, which explain_kinds.py does not have"
    assert f"the {len(KINDS)} kinds" in read("README.md"), f"README.md should say there are {len(KINDS)} kinds"


# ---- the architecture table ⇄ modules on disk ------------------------------------------------------------------

def architecture() -> tuple[set[str], list[str]]:
    """(the modules the README's table covers, every path it names)."""
    covered: set[str] = set()
    named: list[str] = []
    for row in table_rows(section(read("README.md"), "## Architecture")):
        base = ""
        for token in ticked(row[0]):
            if token.split("/")[0] in ("nix_humanity_ls", "editors", "tests", "bench", "grammars"):
                path = token
                base = token.rstrip("/") if token.endswith("/") else token.rsplit("/", 1)[0]
            else:
                path = f"{base}/{token}"
            named.append(path)
            if path.endswith("/"):  # a folder's row names its modules in the description
                covered.update(path + module for module in re.findall(r"`(\w+\.py)`", row[1]))
            else:
                covered.add(path)
    return covered, named


def test_the_architecture_table_lists_every_module_and_only_existing_ones():
    covered, named = architecture()
    for module in sorted(PACKAGE.rglob("*.py")):
        relative = module.relative_to(ROOT).as_posix()
        if not module.name.startswith("__"):
            assert relative in covered, f"README.md (Architecture) has no row for {relative}"
    for path in named:
        assert list(ROOT.glob(path)), f"README.md (Architecture) names {path}, which does not exist"


# ---- bench scripts ⇄ bench/README.md ---------------------------------------------------------------------------

@pytest.mark.parametrize("script", sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem != "__init__"))
def test_every_bench_script_is_in_the_bench_readme_with_how_to_run_it(script: str):
    assert f"python -m bench.{script}" in read("bench/README.md"), \
        f"bench/README.md does not say how to run bench/{script}.py (`python -m bench.{script}`)"


# ---- the two set-up commands ------------------------------------------------------------------------------------

def test_the_readme_keeps_exactly_two_setup_commands():
    readme = read("README.md")
    for marker in ("<!-- main-command -->", "<!-- test-command -->"):
        assert readme.count(marker) == 1, f"README.md must hold {marker} exactly once"
        block = readme.split(marker, 1)[1].lstrip("\n")
        assert block.startswith("```sh\n") and block.split("\n")[2] == "```", \
            f"README.md: {marker} must be followed by a sh block of exactly one command line"
    setup = section(readme, "## Set up on a fresh Debian or Ubuntu machine")
    assert setup.count("```sh") == 2, "README.md's set-up section must hold exactly two commands"
