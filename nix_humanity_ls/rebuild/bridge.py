"""The bridge: a small script run under nixos-rebuild-ng's own Python that calls its `nixos_rebuild` package.

nixos-rebuild-ng's functions (`nix.build`, `nix.switch_to_configuration`, ...) are an internal, blocking
wrapper around nix commands that needs CPython 3.12 or newer, so this file is never imported by nix-humanity:
the `python-module` backend runs it as a child (`python -I bridge.py '<json request>'`), and the runner reads
it like any other child. It uses the standard library only and old-enough syntax that even a too-old Python
reaches the point where it can say so.

Channels: nix's own log (internal-json, because we pass `--log-format internal-json -v` through the module's
flags) arrives on stderr, inherited by every command the module runs. stdout is ours: before calling the
module the real stdout is moved to a private descriptor for our JSON lines, and fd 1 points at stderr, so
nothing the module or its children print can corrupt them. The lines are those `rebuild/model.py` describes:
`progress`, `log`, `result` (`path`, `data`) and `error` (`type`, `returncode`, `cmd`, `message`).

The package changed its signatures several times (flags as `**kwargs`, then one dict per kind of flags;
`sudo: bool`, then `sudo, run0`, then `elevate: Elevator`). Every call is made by keyword after reading the
function's signature; a value the installed version has no parameter for stops with a message instead of
being dropped. Flags are converted to the module's dict form and checked by its own `dict_to_flags` so they
reach nix exactly as asked. stdin is never read.

Request keys: `action` (nixos-rebuild's word), `site_packages`, `target` (`kind` "flake" or "channel", `flake`,
`host`, `config_file`, `nixpkgs`, `target_host`, `build_host`), `profile` (path of the profile link),
`generation`, `elevate` (a prefix such as ["/usr/bin/sudo", "-n"]), `nix_flags`, `out_link`.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

MIN_PYTHON = (3, 12)
ATTRS = {"build-vm": "config.system.build.vm"}  # everything else builds config.system.build.toplevel
ACTIVATIONS = ("switch", "boot", "test", "dry-activate")
LOG_FLAGS = ["--log-format", "internal-json", "-v"]
SHORT_FLAGS = {"-I": "--include", "-j": "--max-jobs", "-k": "--keep-going", "-K": "--keep-failed"}
ARITY = {"--option": 2, "--arg": 2, "--argstr": 2, "--override-input": 2, "--include": 1, "--max-jobs": 1,
         "--cores": 1, "--builders": 1, "--log-format": 1, "--store": 1, "--eval-store": 1, "--out-link": 1}
ROLE_OF_PARAMETER = {  # which of our flag sets goes to which flags parameter of the module's functions
    "build_flags": "build", "flake_build_flags": "build", "realise_flags": "realise",
    "instantiate_flags": "eval", "eval_flags": "eval", "copy_flags": "copy",
}


class BridgeError(Exception):
    """Something this installed version of the module cannot do, said in words."""


class Emitter:
    """Our JSON lines, on a private copy of the original stdout."""

    def __init__(self) -> None:
        sys.stdout.flush()
        fd = os.dup(1)  # not inherited by children (PEP 446)
        os.dup2(2, 1)  # from now on fd 1 is stderr: the module's prints and its children's stdout land there
        self.stream = os.fdopen(fd, "w", encoding="utf-8")
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(line_buffering=True)

    def __call__(self, event: str, **fields: object) -> None:
        self.stream.write(json.dumps({"event": event, **fields}, default=str) + "\n")
        self.stream.flush()


class LogForwarder(logging.Handler):
    """The module's own log messages (warnings, "building..."), forwarded as `log` lines."""

    def __init__(self, emit: Emitter) -> None:
        super().__init__(logging.INFO)
        self.emit_line = emit

    def emit(self, record: logging.LogRecord) -> None:
        level = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
        self.emit_line("log", message=level + record.getMessage())


def main(argv: list[str]) -> int:
    emit = Emitter()
    try:
        request = json.loads(argv[1])
        site = request["site_packages"]
    except (IndexError, ValueError, KeyError, TypeError) as error:
        emit("error", type="BadRequest", message=f"the bridge needs one JSON argument with site_packages ({error})")
        return 2
    sys.path.insert(0, site)  # the directory that holds nixos_rebuild/, never the package (its typing.py)
    try:
        from nixos_rebuild import models, nix, process  # noqa: PLC0415 - only importable once sys.path is set
    except (ImportError, SyntaxError) as error:
        emit("error", type=type(error).__name__, message=_import_problem(error, site))
        return 3
    logging.getLogger().addHandler(LogForwarder(emit))
    try:
        api = Api(nix, models, process, request.get("elevate") or [])
        emit("log", message=f"nixos-rebuild-ng's Python module at {site} (Python {platform.python_version()}; "
                            f"{api.era()})")
        return run(api, request, emit)
    except subprocess.CalledProcessError as error:
        cmd = [str(part) for part in error.cmd] if isinstance(error.cmd, (list, tuple)) else [str(error.cmd)]
        emit("error", type="CalledProcessError", returncode=error.returncode, cmd=cmd, message="")
        return error.returncode if 0 < error.returncode < 256 else 1
    except FileNotFoundError as error:
        emit("error", type="FileNotFoundError", message=f"{error.filename or error} was not found (PATH is "
                                                        f"{os.environ.get('PATH', '')})")
        return 127
    except Exception as error:  # NixOSRebuildError, ElevateError, BridgeError: all have words for the user
        emit("error", type=type(error).__name__, message=str(error).removeprefix("error: "))
        return 1


def _import_problem(error: BaseException, site: str) -> str:
    here = f"Python {platform.python_version()} ({sys.executable})"
    if sys.version_info[:2] < MIN_PYTHON:
        return (f"nixos-rebuild-ng's module at {site} needs Python 3.12 or newer, and this is {here}: run the "
                f"bridge with the package's own interpreter ({type(error).__name__}: {error})")
    return f"cannot import nixos_rebuild from {site} with {here}: {type(error).__name__}: {error}"


class Api:
    """The installed module, called through whatever signatures it has."""

    def __init__(self, nix: object, models: object, process: object, elevate: list[str]) -> None:
        self.nix, self.models, self.process = nix, models, process
        self.tool = os.path.basename(elevate[0]) if elevate else None
        if self.tool == "sudo" and elevate[1:]:
            os.environ["NIX_SUDOOPTS"] = " ".join(filter(None, [os.environ.get("NIX_SUDOOPTS"), shlex.join(elevate[1:])]))
        if self.tool not in (None, "sudo", "run0"):
            raise BridgeError(f"nixos-rebuild-ng gains root only with sudo or run0, not {self.tool}")
        self.dict_to_flags = getattr(nix, "dict_to_flags", None)
        if self.dict_to_flags is None:
            from nixos_rebuild.utils import dict_to_flags  # noqa: PLC0415

            self.dict_to_flags = dict_to_flags

    def era(self) -> str:
        parameters = inspect.signature(self.nix.switch_to_configuration).parameters
        flags = inspect.signature(self.function("build")).parameters
        kind = "flags as **kwargs" if any(p.kind is p.VAR_KEYWORD for p in flags.values()) else "flags as a dict"
        root = "elevate" if "elevate" in parameters else "sudo/run0" if "run0" in parameters else "sudo"
        return f"API with {kind}, root through {root}"

    def function(self, *names: str) -> object:
        """`nix.<name>`, under the first of its names across versions that this one has."""
        for name in names:
            found = getattr(self.nix, name, None)
            if found is not None:
                return found
        raise BridgeError(f"this nixos-rebuild-ng has no nix.{names[0]}; it is too old or too new for the bridge")

    def call(self, function: object, flags: dict[str, dict] | None = None, *, splat: str = "build",
             elevated: bool = False, **named: object) -> object:
        """Call by keyword with what the signature asks for. `flags` maps a role ("build", "eval", "realise",
        "copy") to a flags dict; `splat` is the role a `**flags` parameter (the oldest versions) gets. A named
        value of None may be left out (it means the default); any other value the function has no parameter
        for is an error, never silently dropped. `elevated` calls gain root the way the request says."""
        parameters = inspect.signature(function).parameters
        arguments: dict[str, object] = {}
        for name, parameter in parameters.items():
            if parameter.kind is parameter.VAR_KEYWORD:
                arguments.update((flags or {}).get(splat, {}))
            elif name in named:
                arguments[name] = named[name]
            elif name in ROLE_OF_PARAMETER and flags is not None:
                arguments[name] = flags.get(ROLE_OF_PARAMETER[name], {})
            elif name in ("elevate", "sudo", "run0"):
                arguments[name] = self.elevation(name, parameters, elevated)
            elif parameter.default is parameter.empty and parameter.kind is not parameter.VAR_POSITIONAL:
                raise BridgeError(f"{_name(function)} here wants `{name}`, which the bridge does not know")
        for name, value in named.items():
            if name not in parameters and value is not None:
                raise BridgeError(f"{_name(function)} in this nixos-rebuild-ng takes no `{name}`, so it cannot do "
                                  "this; use the nixos-rebuild command instead")
        if elevated and self.tool and not any(name in parameters for name in ("elevate", "sudo", "run0")):
            raise BridgeError(f"{_name(function)} cannot gain root in this nixos-rebuild-ng")
        return function(**arguments)

    def elevation(self, name: str, parameters: object, elevated: bool) -> object:
        tool = self.tool if elevated else None
        if name == "elevate":
            from nixos_rebuild import elevate  # noqa: PLC0415 - only the elevate era has it

            if tool is None:
                return elevate.NO_ELEVATOR
            kind = {"sudo": "SudoElevator", "run0": "Run0Elevator"}[tool]
            if not hasattr(elevate, kind):
                raise BridgeError(f"this nixos-rebuild-ng cannot gain root with {tool}")
            return getattr(elevate, kind)()
        if tool == "run0" and "run0" not in parameters:
            raise BridgeError("this nixos-rebuild-ng gains root only with sudo, not run0")
        return tool == name

    def flags(self, tokens: list[str]) -> dict[str, object]:
        """nix command-line flags as the module's flags dict, checked with its own `dict_to_flags`."""
        groups: dict[str, list[list[str]]] = {}
        index = 0
        while index < len(tokens):
            flag = SHORT_FLAGS.get(tokens[index], tokens[index])
            if not flag.startswith("-"):
                raise BridgeError(f"`{flag}` in the nix flags is not a flag")
            count = ARITY.get(flag)
            if count is None:
                count = 0
                while index + 1 + count < len(tokens) and not tokens[index + 1 + count].startswith("-"):
                    count += 1
            values = tokens[index + 1:index + 1 + count]
            if len(values) < count:
                raise BridgeError(f"`{flag}` needs {count} value(s)")
            if flag.startswith("--"):
                groups.setdefault(flag[2:].replace("-", "_"), []).append(values)
            else:  # -v, -vv
                for letter in flag[1:]:
                    groups.setdefault(letter, []).append([])
            index += 1 + count
        result: dict[str, object] = {}
        for key, uses in groups.items():
            result[key] = self._encode(key, uses)
        return result

    def _encode(self, key: str, uses: list[list[str]]) -> object:
        """The first value for `key` that the module's `dict_to_flags` turns back into exactly these flags."""
        name = "--" + key.replace("_", "-")
        if all(not values for values in uses):  # a switch: -v -v is -vv, --show-trace twice is once
            wanted = [f"-{key * len(uses)}"] if len(key) == 1 else [name]
            candidates: list[object] = [True] if len(uses) == 1 or len(key) > 1 else [len(uses)]
        else:
            wanted = [part for values in uses for part in (name, *values)]
            candidates = [uses[0][0]] if len(uses) == 1 and len(uses[0]) == 1 else []
            if all(len(values) == 1 for values in uses):
                candidates.append([values[0] for values in uses])
            candidates += [[list(values) for values in uses], [part for values in uses for part in values]]
        for candidate in candidates:
            try:
                if [str(part) for part in self.dict_to_flags({key: candidate})] == wanted:
                    return candidate
            except Exception:  # noqa: BLE001, S112 - an encoding this version rejects: try the next
                continue
        raise BridgeError(f"this nixos-rebuild-ng cannot pass `{' '.join(wanted)}` to nix")

    def remote(self, host: str | None) -> object:
        if not host:
            return None
        return self.call(self.models.Remote.from_arg, host=host, ask_sudo_password=None)


def _name(function: object) -> str:
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', function)}"


def run(api: Api, request: dict, emit: Emitter) -> int:
    action = request["action"]
    target = request.get("target") or {}
    models, nix = api.models, api.nix
    profile = models.Profile(os.path.basename(request["profile"]), Path(request["profile"]))
    target_host = api.remote(target.get("target_host"))
    if action == "list-generations":
        emit("result", path=None, data=_generations(api, profile, target_host))
        return 0
    if action == "rollback":
        _rollback(api, request, profile, target_host, emit)
        return 0
    path = _build(api, request, target, target_host, emit)
    if path is None:
        emit("result", path=None)
        return 0
    if action in ("switch", "boot"):
        emit("progress", message=f"making it the current {profile.name} profile", percentage=None)
        api.call(nix.set_profile, elevated=True, profile=profile, path_to_config=path, target_host=target_host)
    if action in ACTIVATIONS:
        emit("progress", message=f"activating the configuration ({action})", percentage=None)
        api.call(nix.switch_to_configuration, elevated=True, path_to_config=path, action=models.Action(action),
                 target_host=target_host)
    emit("result", path=str(path))
    return 0


def _build(api: Api, request: dict, target: dict, target_host: object, emit: Emitter) -> object:
    """Build (or for dry-build only evaluate) the system; returns the store path, None for a dry run."""
    action = request["action"]
    models, nix = api.models, api.nix
    attr = ATTRS.get(action, "config.system.build.toplevel")
    dry = action == "dry-build"
    flake = target.get("kind") == "flake"
    build_host = api.remote(target.get("build_host"))
    user = list(request.get("nix_flags") or [])
    common = [*LOG_FLAGS, *user]
    if not flake:
        common = ["--include", f"nixos-config={target['config_file']}"] * bool(target.get("config_file")) + common
        common = ["--include", f"nixpkgs={target['nixpkgs']}"] * bool(target.get("nixpkgs")) + common
    link = ["--dry-run"] if dry else (["--out-link", request["out_link"]] if request.get("out_link")
                                      else ["--no-link" if flake else "--no-out-link"])
    emit("log", message=f"building {attr} of {_describe(target)}" + (" (dry run)" if dry else ""))
    if flake:
        reference = target["flake"] + (f"#{target['host']}" if target.get("host") else "")
        flake_value = api.call(models.Flake.parse, flake_str=reference, target_host=target_host)
        if build_host is not None:
            flags = {"build": api.flags([*common, *(["--dry-run"] if dry else [])]), "eval": api.flags(common)}
            path = api.call(api.function("build_remote_flake", "remote_build_flake"), flags, attr=attr, flake=flake_value,
                            build_host=build_host)
        else:
            path = api.call(api.function("build_flake"), {"build": api.flags([*common, *link])}, attr=attr,
                            flake=flake_value)
    else:
        build_attr = models.BuildAttr("<nixpkgs/nixos>", None)
        if build_host is not None:
            realise = api.flags([*LOG_FLAGS, *user, *(["--dry-run"] if dry else [])])
            flags = {"realise": realise, "build": realise, "eval": api.flags(common)}
            path = api.call(api.function("build_remote", "remote_build"), flags, attr=attr, build_attr=build_attr,
                            build_host=build_host)
        else:
            path = api.call(api.function("build"), {"build": api.flags([*common, *link])}, attr=attr,
                            build_attr=build_attr)
    if dry or str(path) in ("", "."):
        return None
    if build_host is not None or target_host is not None:
        emit("progress", message="copying the system to the target host", percentage=None)
        api.call(nix.copy_closure, {"copy": {}}, splat="copy", closure=path, to_host=target_host, from_host=build_host)
    return path


def _rollback(api: Api, request: dict, profile: object, target_host: object, emit: Emitter) -> None:
    nix = api.nix
    generation = request.get("generation")
    if generation is not None:
        emit("progress", message=f"switching the {profile.name} profile to generation {generation}", percentage=None)
        switch = ["nix-env", "-p", str(profile.path), "--switch-generation", str(generation)]
        api.call(api.process.run_wrapper, elevated=True, args=switch, remote=target_host)
        path = profile.path
    else:
        emit("progress", message=f"rolling the {profile.name} profile back", percentage=None)
        path = api.call(nix.rollback, elevated=True, profile=profile, target_host=target_host)
    emit("progress", message="activating the configuration (switch)", percentage=None)
    api.call(nix.switch_to_configuration, elevated=True, path_to_config=path, action=api.models.Action("switch"),
             target_host=target_host)
    emit("result", path=os.path.realpath(path) if target_host is None else None)


def _generations(api: Api, profile: object, target_host: object) -> list[dict]:
    """nixos-rebuild's `list-generations --json` items: full details locally, id/date/current over SSH."""
    if target_host is None:
        return [dict(item) for item in api.call(api.nix.list_generations, profile=profile)]
    found = api.call(api.nix.get_generations, profile=profile, target_host=target_host)
    return [{"generation": item["id"], "date": item["timestamp"], "current": item["current"]}
            for item in (dataclasses.asdict(generation) for generation in found)]


def _describe(target: dict) -> str:
    if target.get("kind") == "flake":
        return f"{target.get('flake')}#{target.get('host') or '<host name>'}"
    return f"nixos-config={target.get('config_file') or '<from NIX_PATH>'}"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
