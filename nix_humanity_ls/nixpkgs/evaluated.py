"""The complete list of the user's NixOS options, evaluated by Nix in the background and merged over the static
index, so that options the static reading cannot see (computed names, options of the user's own modules and
of flake inputs) are known too, and "no such option" can be trusted (`OptionIndex.complete`).

What is evaluated:
- a flake (the nixpkgs came from a `flake.lock`, or the `rebuild.flake` setting names one on this machine):
  `nix eval --json FLAKE#nixosConfigurations` with the configuration a rebuild builds (the `rebuild.host`
  setting, else the flake reference's `#name`, else this machine's host name as `rebuild/target.py` matches
  it, else the only one), its `options` flattened by nixpkgs' own `lib.optionAttrSetToDocList`; the lock file
  is never written and nothing is downloaded (`--offline`);
- otherwise: `nix-instantiate --eval --strict --json` of `import <nixpkgs/nixos> { configuration = FILE; }`
  with `-I nixpkgs=` the located tree, FILE the `configuration.nix` of a workspace folder, `NIXOS_CONFIG`,
  the `nixos-config` entry of `NIX_PATH` or `/etc/nixos/configuration.nix`, else an empty configuration.

Each option's parts are evaluated under `tryEval`, so one default that throws loses that default, not the
list. Nix runs under `evaluation_worker.py`, in a session of its own with a memory cap; at the timeout the
whole process group is killed. The result is cached (`cache.py`) under a key made of the nixpkgs, the
configuration files' contents, the Nix version and the expression, so the next start reads it back.

Nothing here blocks a request: `OptionsEvaluation.start` runs in a daemon thread and reports an `Outcome`.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import marshal
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from ..config_folder import configuration_files, in_folder
from ..edits.values import nix_string
from ..rebuild.target import choose_host, flake_hosts, local_flake_file, split_flake_reference
from .cache import cache_dir, index_key, load_plain, save_plain
from .locate import ETC_NIXOS, NixpkgsLocation, split_nix_path
from .modules import read_module
from .records import OptionDecl, OptionIndex, StaticIndex
from .workers import worker_environment

log = logging.getLogger(__name__)

# `lib: options: [ { loc; type; description; default; example; declarations; internal; visible; readOnly; } ]`
# from nixpkgs' `optionAttrSetToDocList`: `default`/`example` are `{ _type; text; }` (older nixpkgs: plain
# values, shown with `lib.generators.toPretty`), `description` a string (older: `{ _type = "mdDoc"; text; }`)
FLATTEN = """lib: options:
let
  safe = value: let tried = builtins.tryEval (builtins.deepSeq value value); in
    if tried.success then tried.value else null;
  string = value: if builtins.isString value then value else null;
  text = value: if builtins.isAttrs value && value ? text then value.text else value;
  literal = value: if builtins.isAttrs value && value ? text then value.text
    else lib.generators.toPretty { } value;
  row = doc: {
    loc = doc.loc or null;
    type = string (safe (doc.type or null));
    description = string (safe (text (doc.description or null)));
    default = if doc ? default then string (safe (literal doc.default)) else null;
    example = if doc ? example then string (safe (literal doc.example)) else null;
    declarations = let found = safe (map toString (doc.declarations or [ ])); in
      if builtins.isList found then found else [ ];
    internal = safe (doc.internal or false) == true;
    visible = safe (doc.visible or true) != false;
    readOnly = safe (doc.readOnly or false) == true;
  };
in map row (lib.optionAttrSetToDocList options)
"""
CHANNEL = """{ configuration }:
let
  system = import <nixpkgs/nixos> {
    configuration = if configuration == "" then { } else /. + configuration;
  };
in (%s) (import <nixpkgs/lib>) system.options
""" % FLATTEN
FLAKE = """configurations:
let
  wanted = %s;
  names = builtins.attrNames configurations;
  host = if configurations ? ${wanted} then wanted
    else if builtins.length names == 1 then builtins.head names
    else throw "nixosConfigurations has ${toString (builtins.length names)} configurations and none is named ${wanted}";
  chosen = configurations.${host};
in { inherit host; options = (%s) (chosen.lib or chosen.pkgs.lib) chosen.options; }
"""
FORMAT = 1  # of the cached rows; part of the key
MB = 1024 * 1024
_RUNNING: set[subprocess.Popen[bytes]] = set()
_RUNNING_LOCK = threading.Lock()


class EvaluationFailed(Exception):
    """The evaluation gave no options; the message says why in words."""


class NothingToEvaluate(EvaluationFailed):
    """There is nothing to evaluate with (no NixOS in the tree, no Nix): not a problem worth a warning."""


@attrs.frozen
class Target:
    """What is evaluated: a flake's NixOS configuration, a configuration file, or (path None, not a flake) an
    empty configuration, which still declares every option of nixpkgs."""

    flake: bool
    path: Path | None
    host: str | None = None

    def describe(self) -> str:
        if self.flake:
            return f"the flake in {self.path}" + (f" (configuration {self.host})" if self.host else "")
        return str(self.path) if self.path is not None else "an empty configuration"


@attrs.frozen
class Outcome:
    index: OptionIndex | None  # the merged index; None when the evaluation failed or was cancelled
    message: str  # one sentence: what was evaluated and how many options, or why it failed
    evaluated: int = 0  # options the evaluation gave
    from_cache: bool = False
    skipped: bool = False  # nothing to evaluate with (see `NothingToEvaluate`): say it quietly


def find_target(location: NixpkgsLocation, folders: Sequence[str | os.PathLike[str]],
                environ: Mapping[str, str] | None = None, etc_nixos: Path | None = ETC_NIXOS,
                hostname: str | None = None, flake: str | None = None, host: str | None = None) -> Target:
    """The flake the settings name (`flake`, `host`: `rebuild.flake` and `rebuild.host`) or the nixpkgs came
    from, with the configuration a rebuild would build; else the configuration file in use (see the module
    docstring). A flake reference that is not on this machine cannot be evaluated offline and is passed over."""
    environ = os.environ if environ is None else environ
    reference, fragment = split_flake_reference(flake) if flake else (None, None)
    named = local_flake_file(reference) if reference is not None else None
    if named is not None:
        return Target(True, Path(named).parent, host or fragment or choose_host(flake_hosts(named), hostname))
    if location.flake is not None:
        flake_file = str(location.flake / "flake.nix")
        return Target(True, location.flake, host or choose_host(flake_hosts(flake_file), hostname))
    candidates = [Path(f) / "configuration.nix" for f in folders]
    if environ.get("NIXOS_CONFIG"):
        candidates.append(Path(environ["NIXOS_CONFIG"]))
    for entry in split_nix_path(environ.get("NIX_PATH", "")):
        name, _, target = entry.partition("=")
        if name == "nixos-config" and target:
            candidates.append(Path(target))
    if etc_nixos is not None:
        candidates.append(etc_nixos / "configuration.nix")
    for candidate in candidates:
        if candidate.is_dir():
            candidate = candidate / "default.nix"
        if candidate.is_file():
            return Target(False, Path(os.path.abspath(candidate)))
    return Target(False, None)


def nix_command(target: Target, root: Path, nix_instantiate: str) -> list[str]:
    """The argument list that prints the options as JSON (never through a shell)."""
    if target.flake:
        nix = os.path.join(os.path.dirname(nix_instantiate), "nix") if os.sep in nix_instantiate else "nix"
        return [nix, "--extra-experimental-features", "nix-command flakes", "eval", "--json", "--offline",
                "--no-write-lock-file", f"{target.path}#nixosConfigurations",
                "--apply", FLAKE % (nix_string(target.host or ""), FLATTEN)]
    configuration = str(target.path) if target.path is not None else ""
    command = [nix_instantiate, "--eval", "--strict", "--json", "-I", f"nixpkgs={root}"]
    if configuration:
        command += ["-I", f"nixos-config={configuration}"]
    return command + ["--argstr", "configuration", configuration, "--expr", CHANNEL]


def nix_version(nix_instantiate: str, timeout: float) -> str:
    try:
        result = subprocess.run([nix_instantiate, "--version"], capture_output=True, timeout=timeout, check=False)
    except (FileNotFoundError, PermissionError) as error:
        raise NothingToEvaluate(f"`{nix_instantiate}` cannot be run ({error.strerror})") from error
    except (OSError, subprocess.TimeoutExpired) as error:
        raise EvaluationFailed(f"`{nix_instantiate} --version` did not answer ({error})") from error
    if result.returncode != 0:
        raise EvaluationFailed(f"`{nix_instantiate} --version` failed")
    return result.stdout.decode("utf-8", "replace").strip()


def configuration_digest(target: Target, environ: Mapping[str, str] | None = None) -> str:
    """A hash of what the evaluation reads besides nixpkgs: every `.nix` file and `flake.lock` in the
    configuration's folder (and below it), and `NIX_PATH`, which `<…>` imports go through."""
    environ = os.environ if environ is None else environ
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{target.flake}\0{target.host}\0{environ.get('NIX_PATH', '')}\0".encode())
    if target.path is not None:
        folder = target.path if target.path.is_dir() else target.path.parent
        digest.update(str(target.path).encode() + b"\0")
        for file in configuration_files(folder).files:
            digest.update(file.encode() + b"\0")
            try:
                with open(file, "rb") as handle:
                    digest.update(hashlib.blake2b(handle.read(), digest_size=16).digest())
            except OSError:
                digest.update(b"unreadable")
    return digest.hexdigest()


# -- the evaluated options as records, merged over the static index -------------------------------------------


def evaluated_options(rows: Iterable[tuple], static: OptionIndex, root: str, flake: Path | None = None
                      ) -> list[OptionDecl]:
    """The worker's rows as records. Where the static index knows the option, its declaring lines and
    spelling (`kind`) are kept and fill in what the evaluation left out; other lines are looked up in the
    declaring file. Files of a flake's store copy are named by their place in the flake's folder."""
    lines = _Lines(root)
    found = []
    for path, type_, default, example, description, files, internal, read_only in rows:
        path = tuple(path)
        if flake is not None:
            files = [in_folder(f, flake) for f in files]
        known = static.get(path)
        if known is None:
            places = [(f, lines.line(f, path)) for f in dict.fromkeys(files)] or [("", 0)]
            found.append(OptionDecl(path, lines.kind(places[0][0], path), type_, default, example, description,
                                    places[0][0], places[0][1], internal, read_only, tuple(places[1:])))
            continue
        if not files or (len(files) == 1 and files[0] == known.file):
            places = [(known.file, known.line), *known.also_declared]  # the common case: the same place
        else:
            known_lines = dict(((known.file, known.line), *known.also_declared))
            places = [(f, known_lines.get(f) or lines.line(f, path)) for f in dict.fromkeys(files)]
        found.append(OptionDecl(  # text equal to the static index's is shared with it, not held twice
            known.path,
            known.kind,
            _same(type_, known.type) or known.type,
            _same(default, known.default) if default is not None else known.default,
            _same(example, known.example) if example is not None else known.example,
            _same(description, known.description) or known.description,
            places[0][0],
            places[0][1],
            internal,
            read_only,
            tuple(places[1:]),
            known.freeform,  # what the evaluation's type text does not say (a submodule's freeformType)
        ))
    return found


def _same(new: str | None, old: str | None) -> str | None:
    return old if new == old else new


class _Lines:
    """Declaring lines of options the static index does not know. A file outside nixpkgs (the user's own
    modules, a flake input) is read as a module, once; in a nixpkgs file the static index has read already,
    so an option it lacks has a computed name: the first line that binds the last segment is taken."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._files: dict[str, tuple[dict[tuple[str, ...], OptionDecl], str]] = {}

    def _read(self, file: str) -> tuple[dict[tuple[str, ...], OptionDecl], str]:
        if file not in self._files:
            try:
                with open(os.path.join(self.root, file), "rb") as handle:
                    source = handle.read()
                options = {o.path: o for o in read_module(file, source).options} if os.path.isabs(file) else {}
                self._files[file] = (options, source.decode("utf-8", "replace"))
            except (OSError, ValueError):
                self._files[file] = ({}, "")
        return self._files[file]

    def _declared(self, file: str, path: tuple[str, ...]) -> OptionDecl | None:
        """The file's own declaration of `path`: the longest end of `path` the file declares (a submodule
        file declares its options relative to where it is used)."""
        options, _ = self._read(file)
        for start in range(len(path)):
            found = options.get(path[start:])
            if found is not None:
                return found
        return None

    def line(self, file: str, path: tuple[str, ...]) -> int:
        declared = self._declared(file, path)
        if declared is not None:
            return declared.line
        _, text = self._read(file)
        match = re.search(rf"(?<![\w'-]){re.escape(path[-1])}\s*=", text) if text else None
        return text.count("\n", 0, match.start()) + 1 if match else 1

    def kind(self, file: str, path: tuple[str, ...]) -> str:
        declared = self._declared(file, path) if file else None
        return declared.kind if declared is not None else "mkOption"


def merge(static: OptionIndex, evaluated: Iterable[OptionDecl]) -> OptionIndex:
    """The evaluated options over the static ones: evaluated facts win, options only the static index has
    stay, and the hidden options that `mkRenamedOptionModule` and friends declare at old names are left to
    the static index's renames, which say where the name went."""
    options = {o.path: o for o in static.options()}
    for option in evaluated:
        if option.internal and static.rename_for(option.path) is not None:
            continue
        options[option.path] = option
    return OptionIndex(options.values(), static.renames(), complete=True)


def _to_plain(host: str | None, options: Sequence[OptionDecl]) -> tuple:
    return (host, tuple(attrs.astuple(o, recurse=False) for o in options))


def _from_plain(plain: tuple) -> tuple[str | None, list[OptionDecl]]:
    host, rows = plain
    return host, [OptionDecl(tuple(r[0]), *r[1:10], tuple(tuple(p) for p in r[10]), *r[11:]) for r in rows]


# -- running it -----------------------------------------------------------------------------------------------


@attrs.frozen
class EvaluationRequest:
    location: NixpkgsLocation
    folders: tuple[str, ...]
    static: StaticIndex
    nix_instantiate: str = "nix-instantiate"
    memory_mb: int = 4096
    timeout: float = 300.0
    nix_timeout: float = 10.0  # for `nix-instantiate --version`
    cache_directory: Path | None = None  # default: `evaluated-options` beside the index cache
    etc_nixos: Path | None = ETC_NIXOS
    hostname: str | None = None  # default: this machine's
    flake: str | None = None  # the `rebuild.flake` setting: evaluate the system the rebuild builds
    host: str | None = None  # the `rebuild.host` setting


class OptionsEvaluation:
    """One evaluation. `run` does it in the calling thread; `start` in a daemon thread (it never keeps the
    server from exiting; the processes are killed at exit). `cancel` stops it from any thread."""

    def __init__(self, request: EvaluationRequest) -> None:
        self.request = request
        self._process: subprocess.Popen[bytes] | None = None
        self._cancelled = threading.Event()
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def start(self, done: Callable[[Outcome], None]) -> OptionsEvaluation:
        def work() -> None:
            outcome = self.run()
            if not self.cancelled:
                done(outcome)

        threading.Thread(target=work, name="nixpkgs-options-evaluation", daemon=True).start()
        return self

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            if self._process is not None:
                _kill(self._process)

    def run(self) -> Outcome:
        """The merged index and a sentence, or (index None) why there is none. Never raises."""
        request = self.request
        target = find_target(request.location, request.folders, etc_nixos=request.etc_nixos,
                             hostname=request.hostname, flake=request.flake, host=request.host)
        try:
            host, options, from_cache = self._options(target)
        except EvaluationFailed as error:
            return Outcome(None, str(error), skipped=isinstance(error, NothingToEvaluate))
        except Exception as error:  # noqa: BLE001 - the static index must stay whatever goes wrong here
            log.exception("evaluating the options failed")
            return Outcome(None, f"evaluating the options of {target.describe()} failed ({error})")
        if host is not None:
            target = attrs.evolve(target, host=host)
        merged = merge(request.static.options, options)
        gained = len(merged) - len(request.static.options)
        source = " (from the cache)" if from_cache else ""
        return Outcome(merged, f"evaluated {len(options)} options of {target.describe()}{source}; "
                               f"{gained} more than the static index", len(options), from_cache)

    def _options(self, target: Target) -> tuple[str | None, list[OptionDecl], bool]:
        request = self.request
        root = request.location.path
        if root is None:
            raise NothingToEvaluate("no nixpkgs to evaluate")
        if not target.flake and not (root / "nixos" / "default.nix").is_file():
            raise NothingToEvaluate(f"{root} has no nixos/default.nix to evaluate")
        key = (f"evaluated options, format {FORMAT}, of {index_key(root, request.location.revision)}; "
               f"{target.describe()}, configuration {configuration_digest(target)}; "
               f"{nix_version(request.nix_instantiate, request.nix_timeout)}; "
               f"expression {hashlib.blake2b((FLATTEN + CHANNEL + FLAKE).encode(), digest_size=8).hexdigest()}")
        directory = request.cache_directory or cache_dir().parent / "evaluated-options"
        cached = load_plain(key, directory, _from_plain, "evaluated options")
        if cached is not None:
            return (*cached, True)
        host, rows = self._evaluate(target, root)
        options = evaluated_options(rows, request.static.options, str(root), target.path if target.flake else None)
        if not self.cancelled:
            save_plain(_to_plain(host, options), key, directory, "evaluated options")
        return host, options, False

    def _evaluate(self, target: Target, root: Path) -> tuple[str | None, list[tuple]]:
        request = self.request
        job = {"command": nix_command(target, root, request.nix_instantiate), "memory": request.memory_mb * MB,
               "root": str(root)}
        env, cwd = worker_environment()
        with self._lock:
            if self.cancelled:
                raise EvaluationFailed("cancelled")
            process = self._process = subprocess.Popen(
                [sys.executable, "-m", f"{__package__}.evaluation_worker", json.dumps(job)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
                start_new_session=True,  # its own process group: the timeout kills it and Nix together
            )
        with _RUNNING_LOCK:
            _RUNNING.add(process)
        what = target.describe()
        try:
            try:
                out, err = process.communicate(timeout=request.timeout)
            except subprocess.TimeoutExpired:
                _kill(process)
                process.communicate()
                raise EvaluationFailed(
                    f"evaluating the options of {what} took longer than {request.timeout:g} s "
                    "(setting `evaluation.timeout`) and was stopped") from None
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(process)
            with self._lock:
                self._process = None
        if self.cancelled:
            raise EvaluationFailed("cancelled")
        try:
            answer = marshal.loads(out) if process.returncode == 0 else None
        except (EOFError, ValueError, TypeError):
            answer = None
        if answer is None:
            problem = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [_exit_status(process.returncode)]
            raise EvaluationFailed(f"the process evaluating the options of {what} failed: {problem[0]}")
        if answer[0] == "options":
            return answer[1], answer[2]
        _, reason, text = answer
        if reason == "memory":
            raise EvaluationFailed(f"evaluating the options of {what} needed more than {request.memory_mb} MB "
                                   "(setting `evaluation.memoryLimit`) and was stopped")
        if reason == "answer":
            raise EvaluationFailed(f"Nix's answer for the options of {what} is not readable: {text}")
        raise EvaluationFailed(f"Nix could not evaluate the options of {what}: {nix_error(text)}")


def nix_error(text: str) -> str:
    """Nix's own message for a failed evaluation, with its position when it gives one."""
    from ..rebuild.nix_log import read_messages

    errors = [m for m in read_messages(text) if m.level == "error"]
    if errors:
        first = errors[0]
        where = f" (at {first.file}:{first.line}:{first.column})" if first.file and first.line else ""
        return first.message.strip() + where
    lines = [line for line in text.strip().splitlines() if line.strip() and not line.startswith("GC Warning")]
    return lines[-1] if lines else "no message"


def _exit_status(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"stopped by {signal.Signals(-code).name}"
        except ValueError:
            return f"stopped by signal {-code}"
    return f"exit status {code}"


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the worker's process group (the worker and the Nix it started)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@atexit.register
def _kill_running() -> None:
    with _RUNNING_LOCK:
        for process in list(_RUNNING):
            _kill(process)
