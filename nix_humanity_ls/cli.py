"""`nix-humanity`: the companion command line. It calls the same core as the language server."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__
from .ide.diagnostics import document_problems
from .ide.nix_parse import NixUnavailable, nix_parse_problem
from .ide.problem import Problem
from .syntax.document import Document, PositionEncoding

BINARY_SNIFF = 8192


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nix-humanity", description="Work with a NixOS configuration in plain words."
    )
    parser.add_argument("--version", action="version", version=f"nix-humanity {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    check = commands.add_parser(
        "check",
        help="report syntax problems",
        description=(
            "Report syntax problems as FILE:LINE:COLUMN: message (1-based; the column counts characters). "
            "When tree-sitter finds nothing and nix-instantiate is on PATH, Nix's own parser is asked too. "
            "Exit status: 0 when every file is fine, 1 when any has a problem or cannot be read."
        ),
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--no-nix", action="store_true", help="do not ask nix-instantiate --parse")
    check.add_argument(
        "--nix-instantiate", default="nix-instantiate", metavar="PATH", help="the nix-instantiate to ask"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "check":
        return _check(args.files, not args.no_nix, args.nix_instantiate)
    return 2  # argparse rejects unknown commands before this


def _check(paths: Sequence[str], ask_nix: bool, nix_instantiate: str) -> int:
    failed = False
    for path in paths:
        for line in check_file(path, ask_nix, nix_instantiate):
            print(line)
            failed = True
    return 1 if failed else 0


def check_file(path: str, ask_nix: bool = True, nix_instantiate: str = "nix-instantiate") -> list[str]:
    """Problems of one file as `path:line:column: message` lines (empty when it is fine)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return [f"{path}:1:1: cannot read the file: {error.strerror or error}"]
    if b"\0" in data[:BINARY_SNIFF]:
        return [f"{path}:1:1: not a Nix file: it contains binary data"]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return [f"{path}:1:1: not a Nix file: it is not UTF-8 text (bad byte at offset {error.start})"]
    doc = Document(path, data)
    nix_problem: Problem | None = None
    if ask_nix and not doc.tree.root_node.has_error:
        try:
            nix_problem = nix_parse_problem(data, nix_instantiate, cwd=os.path.dirname(os.path.abspath(path)))
        except NixUnavailable as error:
            print(f"nix-humanity: note: {error}; only tree-sitter checked {path}", file=sys.stderr)
    return [_format(path, doc, problem) for problem in document_problems(doc, nix_problem)]


def _format(path: str, doc: Document, problem: Problem) -> str:
    position = doc.position_at(problem.start, PositionEncoding.UTF32)
    return f"{path}:{position.line + 1}:{position.character + 1}: {problem.message}"


if __name__ == "__main__":
    sys.exit(main())
