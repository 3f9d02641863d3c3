"""`nix-humanity`: the companion command line. It calls the same core as the language server."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import __version__
from .cli_rebuild import add_rebuild_commands, finding_json, print_findings, rebuild_command
from .ide.diagnostics import document_problems
from .ide.nix_parse import NixUnavailable, nix_parse_problem
from .ide.problem import Problem
from .ide.syntax_errors import syntax_problems
from .files import FileProblem, read_nix_file, write_atomically
from .ide.ask import Candidate, ask, nix_rejection
from .language.memory import ChoiceMemory
from .language.resolve import Knowledge, bundled_knowledge
from .syntax.document import Document, PositionEncoding

if TYPE_CHECKING:
    from .ide.hover import Sources

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nix-humanity", description="Work with a NixOS configuration in plain words."
    )
    parser.add_argument("--version", action="version", version=f"nix-humanity {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    check = commands.add_parser(
        "check",
        help="report the problems the editor shows",
        description=(
            "Report problems as FILE:LINE:COLUMN: message (1-based; the column counts characters): syntax, "
            "undefined variables, and, with your nixpkgs found as `doctor` finds it (a flake beside the file "
            "or in /etc/nixos, a channel, NIX_PATH, then --nixpkgs) and indexed (cached after the first time), "
            "unknown, renamed and removed options, wrong values, unknown and old package names. "
            "When tree-sitter finds no syntax problem and nix-instantiate is on PATH, Nix's own parser is asked "
            "too. Exit status: 0 when every file is fine, 1 when any has a problem or cannot be read."
        ),
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--no-nix", action="store_true", help="do not ask nix-instantiate --parse")
    check.add_argument(
        "--nix-instantiate", default="nix-instantiate", metavar="PATH", help="the nix-instantiate to ask"
    )
    check.add_argument("--nixpkgs", metavar="DIR", help="as the nixpkgsPath setting: the nixpkgs to check "
                       "options and packages against when no flake, channel or NIX_PATH names one")
    check.add_argument("--no-index", action="store_true",
                       help="do not look for a nixpkgs: syntax and undefined variables only")
    check.add_argument("--style", choices=("friendly", "concise", "expert"), default="friendly",
                       help="how messages are worded, as the explanationStyle setting (default: friendly)")
    ask = commands.add_parser(
        "ask",
        help="change the configuration from a plain-words request",
        description=(
            "Understand a request such as \"add firefox and enable ssh\" and change the configuration file. "
            "Without --write, print the change as a unified diff and leave the file alone. "
            "Exit status: 0 applied, proposed or nothing to do; 2 ambiguous (see the candidates, then use --pick); "
            "3 not understood; 1 error."
        ),
    )
    ask.add_argument("request", nargs="+", help="the request, in plain words (quotes optional)")
    ask.add_argument(
        "--file", metavar="PATH",
        help="the configuration to change (default: ./configuration.nix, else /etc/nixos/configuration.nix)",
    )
    ask.add_argument("--write", action="store_true", help="write the change to the file (atomically)")
    ask.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    ask.add_argument("--pick", type=int, metavar="N", help="choose candidate N (1-based) of an ambiguous request")
    ask.add_argument("--no-nix", action="store_true", help="do not ask nix-instantiate --parse to check the result")
    ask.add_argument(
        "--nixpkgs", metavar="DIR",
        help="as the nixpkgsPath setting: packages the bundled list does not know are looked up in your nixpkgs, "
        "found as `doctor` finds it (a flake beside the file or in /etc/nixos, a channel, NIX_PATH, then this)",
    )
    explain = commands.add_parser(
        "explain",
        help="explain Nix's error output in plain words",
        description=(
            "Read the output of nix-build, nix-instantiate or nixos-rebuild (plain or --log-format internal-json) "
            "and explain each problem, root cause first, with its place in your files (CONFIG and the modules it "
            "imports) and fixes. "
            "Exit status: 0 when the input could be read (even with findings), 1 when it could not."
        ),
    )
    explain.add_argument("log", nargs="?", default="-", metavar="LOGFILE", help="the output to read; - for stdin")
    explain.add_argument("--file", metavar="CONFIG", help="your configuration (configuration.nix or flake.nix); "
                         "problems are located in it and the files it imports")
    explain.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    explain.add_argument("--style", choices=("friendly", "concise", "expert"), default="friendly",
                         help="how findings are worded, as the explanationStyle setting (default: friendly)")
    doctor = commands.add_parser(
        "doctor",
        help="say which nixpkgs and which Nix tools are in use",
        description="Report which nixpkgs the language server would learn options and packages from, and why; "
        "which Nix tools are on PATH; and where state and caches are kept. Always exits 0.",
    )
    doctor.add_argument("--workspace", action="append", default=[], metavar="DIR",
                        help="a workspace folder to look for a flake in (repeatable; /etc/nixos is always looked at)")
    doctor.add_argument("--nixpkgs", metavar="PATH", help="as the nixpkgsPath setting")
    explain_option = commands.add_parser(
        "explain-option",
        help="explain a NixOS option, as hover does",
        description=(
            "Explain an option (such as services.openssh.enable, or users.users.<name>.shell) from your nixpkgs, "
            "found as `doctor` finds it (a flake in the current folder or /etc/nixos, a channel, NIX_PATH, then "
            "--nixpkgs), or else from the bundled knowledge. A name inside a free-form option (such as "
            "services.openssh.settings.X11Forwarding) is explained with that option. Exit status: 0 when the "
            "option is known, 1 when it is not (with the closest known names)."
        ),
    )
    explain_option.add_argument("option", metavar="PATH", help="the option path, dotted")
    explain_option.add_argument("--style", choices=("friendly", "concise", "expert"), default="friendly",
                                help="full sentences and an example; one line with the type; or type, default and "
                                "declaring file:line (default: friendly)")
    explain_option.add_argument("--nixpkgs", metavar="DIR", help="as the nixpkgsPath setting")
    explain_option.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    add_rebuild_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(build_parser().parse_args(argv))
    except BrokenPipeError:
        # the reader stopped listening (`… | head`): say nothing more, and no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "check":
        return _check(args)
    if args.command == "ask":
        return ask_command(args)
    if args.command == "explain":
        return explain_command(args)
    if args.command == "doctor":
        return doctor_command(args.workspace, args.nixpkgs)
    if args.command == "explain-option":
        return explain_option_command(args)
    if hasattr(args, "rebuild_action") or args.command == "history":
        return rebuild_command(args)
    return 2  # argparse rejects unknown commands before this


def _check(args: argparse.Namespace) -> int:
    sources = None if args.no_index else _check_sources(args.files, args.nixpkgs, args.nix_instantiate)
    failed = False
    for path in args.files:
        for line in check_file(path, not args.no_nix, args.nix_instantiate, sources, args.style):
            print(line)
            failed = True
    return 1 if failed else 0


def _check_sources(paths: Sequence[str], nixpkgs: str | None, nix_instantiate: str) -> Sources | None:
    """The user's nixpkgs index for the option and package checks, found from the files' folders as the
    server finds it; None (with a note when --nixpkgs was given) when there is none."""
    from .workspace import Workspace

    workspace = Workspace()
    workspace.configure({"nixpkgsPath": nixpkgs, "nixInstantiate": nix_instantiate})
    said = workspace.load_nixpkgs(list(dict.fromkeys(os.path.dirname(os.path.abspath(p)) for p in paths)))
    if workspace.static_index is None:
        if nixpkgs is not None:
            print(f"nix-humanity: note: {said}", file=sys.stderr)
        return None
    return workspace.hover_sources()


def check_file(path: str, ask_nix: bool = True, nix_instantiate: str = "nix-instantiate",
               sources: Sources | None = None, style: str = "friendly") -> list[str]:
    """Problems of one file as `path:line:column: message` lines (empty when it is fine); `sources` with the
    user's nixpkgs index adds the option and package checks."""
    try:
        data = read_nix_file(path)
    except FileProblem as error:
        return [f"{path}:1:1: {error}"]
    doc = Document(path, data)
    nix_problem: Problem | None = None
    if ask_nix and not syntax_problems(doc, 1):
        try:
            nix_problem = nix_parse_problem(data, nix_instantiate, cwd=os.path.dirname(os.path.abspath(path)))
        except NixUnavailable as error:
            print(f"nix-humanity: note: {error}; only tree-sitter checked {path}", file=sys.stderr)
    return [_format(path, doc, problem)
            for problem in document_problems(doc, nix_problem, sources=sources, style=style)]


def _format(path: str, doc: Document, problem: Problem) -> str:
    position = doc.position_at(problem.start, PositionEncoding.UTF32)
    return f"{path}:{position.line + 1}:{position.character + 1}: {problem.message}"


EXIT_CODES = {"applied": 0, "proposed": 0, "noop": 0, "ambiguous": 2, "not_understood": 3, "error": 1}
DEFAULT_FILES = ("configuration.nix", "/etc/nixos/configuration.nix")


def ask_command(args: argparse.Namespace) -> int:
    path = args.file or next((p for p in DEFAULT_FILES if os.path.exists(p)), DEFAULT_FILES[0])
    request = " ".join(args.request)
    memory = ChoiceMemory()
    try:
        data = read_nix_file(path)
        doc = Document(path, data)
        if doc.tree.root_node.has_error:
            first = document_problems(doc)[:1]
            where = f" ({_format(path, doc, first[0])})" if first else ""
            raise FileProblem(f"the file has syntax errors; fix them first{where}")
        result = ask(doc, request, _ask_knowledge(path, args.nixpkgs, memory), args.pick)
        status = result.status
        if status == "proposed" and not args.no_nix:
            assert result.new is not None
            rejection = nix_rejection(data, result.new)
            if rejection is not None:
                raise FileProblem(f"the change was not made: Nix rejects the result ({rejection})")
        if status == "proposed" and args.write:
            assert result.new is not None
            write_atomically(path, result.new, data)
            status = "applied"
            for subject, key in result.picked:
                memory.remember(subject, key)
    except FileProblem as error:
        return _report(args.json, "error", f"{path}: {error}", "", ())
    return _report(args.json, status, result.summary, result.diff(os.path.basename(path)), result.candidates)


def _ask_knowledge(path: str, nixpkgs: str | None, memory: ChoiceMemory) -> Knowledge:
    """The bundled knowledge with past picks, backed by the packages of the user's nixpkgs, which is found
    and indexed (from the cache after the first time) only when a word is not exactly a bundled package or
    feature (then an old package name of that nixpkgs, or a package only it has, may be what is meant)."""
    import attrs

    from .knowledge.packages import PackageIndex
    from .workspace import Workspace

    def users_packages() -> PackageIndex | None:
        workspace = Workspace(memory)
        workspace.configure({"nixpkgsPath": nixpkgs})
        workspace.load_nixpkgs([os.path.dirname(os.path.abspath(path))])
        return workspace.hover_sources().packages if workspace.static_index is not None else None

    knowledge = bundled_knowledge(remembered=memory.load())
    return attrs.evolve(knowledge, packages=PackageIndex(knowledge.packages.sources, fallback=users_packages))


def _report(as_json: bool, status: str, summary: str, diff: str, candidates: Sequence[Candidate]) -> int:
    if as_json:
        print(json.dumps({
            "status": status,
            "summary": summary,
            "diff": diff,
            "candidates": [{"title": c.title, "summary": c.summary} for c in candidates],
        }))
    else:
        stream = sys.stderr if status in ("error", "not_understood") else sys.stdout
        print(f"{status.replace('_', ' ')}: {summary}", file=stream)
        for number, candidate in enumerate(candidates, 1):
            print(f"  {number}. {candidate.title} — {candidate.summary}")
        if candidates:
            print("Run again with --pick N to choose one.")
        if diff:
            print(diff, end="" if diff.endswith("\n") else "\n")
    return EXIT_CODES[status]


def explain_command(args: argparse.Namespace) -> int:
    """`nix-humanity explain`: findings as JSON or as text a person reads."""
    from .rebuild.explain import explain

    try:
        if args.log == "-":
            text = sys.stdin.buffer.read().decode("utf-8", "replace")
        else:
            with open(args.log, "rb") as handle:
                text = handle.read().decode("utf-8", "replace")
    except OSError as error:
        print(f"nix-humanity: cannot read {args.log}: {error.strerror or error}", file=sys.stderr)
        return 1
    findings = explain(text, args.file, args.style)
    if args.json:
        print(json.dumps({"findings": [finding_json(f) for f in findings]}))
        return 0
    if not findings:
        print("No errors found in the input.")
    print_findings(findings)
    return 0


def doctor_command(workspaces: Sequence[str], nixpkgs_setting: str | None) -> int:
    from .language.memory import state_dir
    from .nixpkgs.cache import cache_dir
    from .nixpkgs.locate import locate_nixpkgs

    print(f"nix-humanity {__version__}")
    print(f"nixpkgs: {locate_nixpkgs(workspaces, nixpkgs_setting).explanation}")
    for tool in ("nix-instantiate", "nix-build", "nix", "nixos-rebuild"):
        print(f"{tool}: {shutil.which(tool) or 'not found on PATH'}")
    print(f"remembered choices: {state_dir() / 'choices.json'}")
    print(f"index cache: {cache_dir()}")
    return 0


def explain_option_command(args: argparse.Namespace) -> int:
    """`nix-humanity explain-option`: what hover says about an option, for the nixpkgs the server would use."""
    from .ide.option_explanation import explain_option, terminal_text
    from .knowledge.vocabulary import split_path
    from .workspace import Workspace

    workspace = Workspace()
    workspace.configure({"nixpkgsPath": args.nixpkgs})
    said = workspace.load_nixpkgs([os.getcwd()])
    found = explain_option(split_path(args.option), workspace.hover_sources(), args.style)
    root = workspace.nixpkgs.path if workspace.nixpkgs is not None and workspace.static_index is not None else None
    if args.json:
        declaration = {"file": str(found.declaration[0]), "line": found.declaration[1]} if found.declaration else None
        print(json.dumps({
            "option": args.option, "kind": found.kind, "style": args.style, "text": found.markdown,
            "type": found.type, "default": found.default, "declaration": declaration,
            "suggestions": list(found.suggestions), "nixpkgs": str(root) if root is not None else None,
            "nixpkgs_explanation": said,
        }))
    elif found.kind == "unknown":
        where = f"the nixpkgs at {root}" if root is not None else "the bundled knowledge (no nixpkgs was found)"
        print(f"nix-humanity: `{args.option}` is not an option known to {where}", file=sys.stderr)
        for suggestion in found.suggestions:
            print(f"  did you mean `{suggestion}`?", file=sys.stderr)
    else:
        print(terminal_text(found.markdown))
    return 1 if found.kind == "unknown" else 0


if __name__ == "__main__":
    sys.exit(main())
