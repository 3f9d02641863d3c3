"""The tree-sitter Nix language and parser, created once.

Queries are compiled here at import time and kept alive for the life of the process: tree-sitter's Python
binding has crashed when query objects with predicates were freed (see ../shared/stack_notes.md §2), and
compiling once is also the fast path.
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

import tree_sitter
import tree_sitter_nix

NIX = tree_sitter.Language(tree_sitter_nix.language())

_local = threading.local()


def parse(source: bytes, old_tree: tree_sitter.Tree | None = None) -> tree_sitter.Tree:
    """Parse `source`, reusing `old_tree` (already `.edit()`ed) when given. One parser per thread."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = tree_sitter.Parser(NIX)
    if old_tree is None:
        return parser.parse(source)
    return parser.parse(source, old_tree)


def _grammar_dir() -> Path:
    """Queries live in the top-level `grammars/` folder; the wheel carries them as `nix_humanity_ls/grammars`."""
    packaged = resources.files("nix_humanity_ls") / "grammars"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "grammars"


def load_query(name: str) -> tree_sitter.Query:
    """Compile `grammars/<name>.scm`. Call only at import time and keep the result (see module docstring)."""
    return tree_sitter.Query(NIX, (_grammar_dir() / f"{name}.scm").read_text(encoding="utf-8"))
