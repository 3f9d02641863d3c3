"""Python values as Nix source text."""

from __future__ import annotations

from typing import Any


def nix_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${") + '"'


def nix_value(value: Any) -> str:
    """`True` → `true`, `"UTC"` → `"UTC"`, `[1, "a"]` → `[ 1 "a" ]`, `{"nix": "pkgs.zsh"}` → `pkgs.zsh`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return nix_string(value)
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[ " + " ".join(nix_value(v) for v in value) + " ]" if value else "[ ]"
    if isinstance(value, dict) and set(value) == {"nix"}:
        return str(value["nix"])
    raise ValueError(f"cannot write {value!r} as Nix")
