"""Which backend runs a rebuild, and one sentence saying why (every result reports both).

Order: nixos-rebuild-ng's Python module (when an installation, its site-packages and a CPython >= 3.12 are
found), else the `nixos-rebuild` command, else plain nix (evaluation and builds only). The environment
variable NIX_HUMANITY_PYTHON_BACKEND (`auto`, `true`, `false`) wins over the `rebuild.pythonBackend` setting:
`true` makes the module required, so when it cannot be used the answer is an error saying why, never a quiet
fallback; `false` never uses it. NIX_HUMANITY_NIXOS_REBUILD likewise wins over `rebuild.installation`.
"""

from __future__ import annotations

import enum
import os
import shutil
from collections.abc import Mapping

from .backend_cli import CliBackend
from .backend_module import ModuleBackend, elevates_with
from .backend_nix import NixBackend
from .discover import COMMANDS, ENV_INSTALLATION, STORE_DIR, SYSTEM_BIN, discover
from .model import Action, Backend

ENV_PYTHON_BACKEND = "NIX_HUMANITY_PYTHON_BACKEND"
MODES = ("auto", "true", "false")
PREFERENCES = ("auto", "module", "cli", "nix")  # a request's `backend`: auto, or exactly this one


class BackendProblem(Exception):
    """The backend that was asked for cannot be used here; the message says why and what to do."""


def choose_backend(
    action: Action,
    python_backend: str | bool | enum.Enum = "auto",
    installation: str | None = None,
    *,
    prefer: str = "auto",
    elevate: tuple[str, ...] = (),
    environ: Mapping[str, str] | None = None,
    store_dir: str = STORE_DIR,
    system_bin: str = SYSTEM_BIN,
) -> tuple[Backend, str]:
    """The backend for `action` and the reason it was chosen. `elevate` is the way to root already decided
    (`Plan.elevate`): the module can only use sudo or run0. Raises `BackendProblem` when the module is required
    (`true`, or `prefer="module"`) or a named backend is asked for and cannot be used."""
    environ = os.environ if environ is None else environ
    mode, source = _mode(python_backend, environ)
    if prefer not in PREFERENCES:
        raise BackendProblem(f"unknown backend {prefer!r}; choose one of {', '.join(PREFERENCES)}")
    if prefer == "nix":
        return NixBackend(), "plain nix, as asked"
    found = discover(installation, environ=environ, store_dir=store_dir, system_bin=system_bin)
    required = mode == "true" or prefer == "module"
    if mode == "false" and prefer != "module":
        why_not_module = f"the Python-module backend is off ({source} is false)"
    elif found.module is not None and elevates_with(elevate):
        module = found.module
        return ModuleBackend(module), (f"nixos-rebuild-ng's Python module at {module.site_packages}, run by "
                                       f"{module.interpreter} (found through {module.found_by})")
    else:
        why_not_module = found.why_not() if found.module is None else (
            f"nixos-rebuild-ng gains root only with sudo or run0, and here {os.path.basename(elevate[0])} is used")
        if required:
            asked = "the request" if prefer == "module" else f"{source} is true"
            raise BackendProblem(f"The Python-module backend is required ({asked}) but cannot be used: "
                                 f"{why_not_module}. Point {ENV_INSTALLATION} (or the rebuild.installation setting) "
                                 "at a nixos-rebuild-ng's bin/nixos-rebuild or its site-packages, or set "
                                 f"{ENV_PYTHON_BACKEND}=auto to allow the other backends.")
    if prefer in ("auto", "cli"):
        installed = found.with_command
        command = installed.command if installed else _command_on_path(environ, system_bin)
        if command is not None:
            backend = CliBackend(command, ng=installed.ng if installed else None)
            return backend, f"nixos-rebuild command at {command} (no Python module: {why_not_module})"
        if prefer == "cli":
            raise BackendProblem("The nixos-rebuild command was asked for, but there is none on PATH or in "
                                 f"{system_bin}.")
    return NixBackend(), f"plain nix (no nixos-rebuild on this machine: {why_not_module})"


def _mode(python_backend: str | bool | enum.Enum, environ: Mapping[str, str]) -> tuple[str, str]:
    """`auto`, `true` or `false`, and where it came from."""
    if environ.get(ENV_PYTHON_BACKEND):
        value, source = environ[ENV_PYTHON_BACKEND], ENV_PYTHON_BACKEND
    else:
        value, source = python_backend, "the rebuild.pythonBackend setting"
    if isinstance(value, enum.Enum):
        value = value.value
    text = str(value).strip().lower()
    if text not in MODES:
        raise BackendProblem(f"{source} must be auto, true or false, not {value!r}")
    return text, source


def _command_on_path(environ: Mapping[str, str], system_bin: str) -> str | None:
    path = os.pathsep.join(filter(None, [environ.get("PATH", ""), system_bin]))
    return next((found for name in COMMANDS if (found := shutil.which(name, path=path))), None)
