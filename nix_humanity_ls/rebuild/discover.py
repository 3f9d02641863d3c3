"""Finding nixos-rebuild-ng on this machine: its command, its `nixos_rebuild` package and a Python that can run it.

The Python-module backend does not import nixos-rebuild-ng into this process (it needs CPython 3.12 or newer,
and its import has side effects): it runs our bridge under the package's own interpreter. So discovery has to
find three things, and say plainly which one is missing. Real installations in the Nix store look like this:

    <prefix>/bin/nixos-rebuild              a makeWrapper shell script: puts nix on PATH, execs the next file
    <prefix>/bin/.nixos-rebuild-wrapped     a Python script; its shebang is the package's own interpreter, and
                                            it lists the site-packages directories it adds to sys.path
    <prefix>/lib/python3.X/site-packages/nixos_rebuild/

Places searched, in order: the configured installation only (setting `rebuild.installation` or the environment
variable NIX_HUMANITY_NIXOS_REBUILD, which wins: a `bin/nixos-rebuild`, a prefix or a `site-packages` directory); else
`nixos-rebuild` and `nixos-rebuild-ng` on PATH, in /run/current-system/sw/bin, and, when neither has a usable
module, `*-nixos-rebuild-ng-*` in the Nix store (newest version first). Discovery only reads files; it never runs
what it finds.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Mapping

import attrs

from ..nixpkgs.locate import STORE_DIR

ENV_INSTALLATION = "NIX_HUMANITY_NIXOS_REBUILD"
COMMANDS = ("nixos-rebuild", "nixos-rebuild-ng")
SYSTEM_BIN = "/run/current-system/sw/bin"
MIN_PYTHON = (3, 12)  # the module uses PEP 695 `type` aliases, `typing.override` and PEP 701 f-strings
_WRAPPER_DEPTH = 5  # makeWrapper chains seen in practice are one or two deep
_HEAD = 65536  # wrapper scripts and the wrapped Python script's preamble are far smaller

_SITE_RE = re.compile(r"""['"]([^'"\n]*/site-packages)['"]""")
_PYTHON_DIR_RE = re.compile(r"/lib/python(3\.\d+)/site-packages/?$")
_PYTHON_NAME_RE = re.compile(r"python(3\.\d+)$")
_EXEC_RE = re.compile(r"""^\s*exec\s+(?:-a\s+(?:"[^"]*"|'[^']*'|\S+)\s+)?(?:"([^"]+)"|'([^']+)'|(\S+))""", re.M)
_PATH_LINE_RE = re.compile(r"^\s*(?:export\s+)?PATH=(.*)$", re.M)
_STORE_VERSION_RE = re.compile(r"-nixos-rebuild-ng-(.*)$")


@attrs.frozen
class Installation:
    """One nixos-rebuild found somewhere. `problem` is None when its Python module can be run by `interpreter`."""

    where: str  # the path as found or configured
    found_by: str  # "PATH", "/run/current-system/sw/bin", "the Nix store", or the setting's name
    command: str | None = None  # the `nixos-rebuild` to run as a command, when there is one
    site_packages: str | None = None  # the directory holding `nixos_rebuild/` (goes on sys.path)
    interpreter: str | None = None  # a CPython >= 3.12 to run the bridge with
    python: str | None = None  # "3.13": what the package was built for (from lib/python3.X), else the interpreter's
    path_prefix: tuple[str, ...] = ()  # directories the wrapper puts in front of PATH (nix, the package's tools)
    path_suffix: tuple[str, ...] = ()
    ng: bool | None = None  # nixos-rebuild-ng (True), the older shell script (False), or not known
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None

    def search_path(self, current: str | None) -> str:
        """PATH as the wrapper script would set it: the same nix the command itself would run."""
        parts = [*self.path_prefix, *(current.split(os.pathsep) if current else []), *self.path_suffix]
        return os.pathsep.join(dict.fromkeys(part for part in parts if part))

    def describe(self) -> str:
        if self.problem:
            return f"{self.where} ({self.found_by}): {self.problem}"
        return f"nixos-rebuild-ng's Python module at {self.site_packages}, run by {self.interpreter} ({self.found_by})"


@attrs.frozen
class Discovery:
    """Everything found, in the order searched, and the places that held nothing."""

    installations: tuple[Installation, ...] = ()
    empty: tuple[str, ...] = ()

    @property
    def module(self) -> Installation | None:
        """The first installation whose Python module can be run."""
        return next((found for found in self.installations if found.usable), None)

    @property
    def with_command(self) -> Installation | None:
        """The first installation with a `nixos-rebuild` command, whether or not its module is usable (for the
        command-line backend)."""
        return next((found for found in self.installations if found.command), None)

    def why_not(self) -> str:
        """Why no module can be used, in one sentence."""
        if self.installations:
            return "; ".join(found.describe() for found in self.installations)
        return "no nixos-rebuild found (looked in " + ", ".join(self.empty) + ")"


def discover(
    configured: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    store_dir: str = STORE_DIR,
    system_bin: str = SYSTEM_BIN,
) -> Discovery:
    """Find nixos-rebuild installations. $NIX_HUMANITY_NIXOS_REBUILD, else `configured` (the setting), names exactly
    one, and then nothing else is searched: a user who points at an installation means that one."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV_INSTALLATION):
        configured, label = environ[ENV_INSTALLATION], ENV_INSTALLATION
    else:
        label = "the rebuild.installation setting"
    if configured:
        return Discovery((inspect_installation(os.path.expanduser(configured), label, environ, store_dir),))
    seen: set[str] = set()
    found: list[Installation] = []
    empty: list[str] = []

    def add(path: str, label: str) -> None:
        """Keep the first sighting of each installation (PATH, the system and the store often name the same)."""
        found_here = inspect_installation(path, label, environ, store_dir)
        key = os.path.realpath(found_here.site_packages or found_here.command or path)
        if key not in seen:
            seen.add(key)
            found.append(found_here)

    path_dirs = [directory for directory in environ.get("PATH", "").split(os.pathsep) if directory]
    for label, directories in (("PATH", path_dirs), (system_bin, [system_bin])):
        commands = [os.path.join(directory, name) for directory in directories for name in COMMANDS]
        commands = [path for path in commands if os.path.isfile(path) and os.access(path, os.X_OK)]
        for path in commands:
            add(path, label)
        if not commands:
            empty.append(label)
    if any(installation.usable for installation in found):
        return Discovery(tuple(found), tuple(empty))  # the store is large; read it only when it is needed
    prefixes = _store_installations(store_dir)
    for prefix in prefixes:
        add(prefix, "the Nix store")
    if not prefixes:
        empty.append(f"{store_dir}/*-nixos-rebuild-ng-*")
    return Discovery(tuple(found), tuple(empty))


def inspect_installation(path: str, found_by: str, environ: Mapping[str, str], store_dir: str = STORE_DIR) -> Installation:
    """What `path` (a command, a prefix, a site-packages directory or the package directory) offers."""
    real = os.path.realpath(path)
    if not os.path.exists(real):
        return Installation(path, found_by, problem="does not exist")
    if os.path.isfile(real):
        return _from_command(path, found_by, environ, store_dir)
    if os.path.basename(real) == "nixos_rebuild" and os.path.isfile(os.path.join(real, "__init__.py")):
        real = os.path.dirname(real)  # the package itself: its parent goes on sys.path, never the package
    if os.path.isdir(os.path.join(real, "nixos_rebuild")):
        return _with_interpreter(Installation(path, found_by, site_packages=real, ng=True), None, environ, store_dir)
    for name in COMMANDS:
        command = os.path.join(real, "bin", name)
        if os.path.isfile(command):
            return _from_command(command, found_by, environ, store_dir)
    site = _site_packages_under(real)
    if site:
        return _with_interpreter(Installation(path, found_by, site_packages=site, ng=True), None, environ, store_dir)
    return Installation(path, found_by, problem="holds neither bin/nixos-rebuild nor a nixos_rebuild package")


def _from_command(command: str, found_by: str, environ: Mapping[str, str], store_dir: str) -> Installation:
    """Follow makeWrapper scripts to the Python script they run, collecting the PATH each one sets."""
    prefix: list[str] = []
    suffix: list[str] = []
    current = os.path.realpath(command)
    for _depth in range(_WRAPPER_DEPTH):
        text = _read_head(current)
        if text is None:
            return Installation(command, found_by, command=command, problem=(
                f"{current} is a compiled wrapper that cannot be read; set {ENV_INSTALLATION} to the "
                "package's lib/python3.X/site-packages directory instead"))
        interpreter = _shebang_interpreter(text, environ)
        if interpreter and "python" in os.path.basename(interpreter[0]):
            found = Installation(command, found_by, command=command, path_prefix=tuple(prefix),
                                 path_suffix=tuple(suffix))
            return _from_python_script(found, current, text, interpreter[1], environ, store_dir)
        target = _exec_target(text)
        if target is None:
            return Installation(command, found_by, command=command, ng=False, problem=(
                "is the shell-script nixos-rebuild from before nixos-rebuild-ng, which has no Python module"))
        inner_prefix, inner_suffix = _wrapper_path(text)
        prefix[:0] = inner_prefix  # an inner wrapper runs later, so its directories end up in front
        suffix.extend(inner_suffix)
        current = os.path.realpath(target)
    return Installation(command, found_by, command=command, problem=f"wrappers nested more than {_WRAPPER_DEPTH} deep")


def _from_python_script(
    found: Installation, script: str, text: str, interpreter: str | None, environ: Mapping[str, str], store_dir: str
) -> Installation:
    listed = [site for site in _SITE_RE.findall(text) if os.path.isdir(os.path.join(site, "nixos_rebuild"))]
    site = listed[0] if listed else _site_packages_under(os.path.dirname(os.path.dirname(script)))
    if site is None and interpreter:  # e.g. a pip-installed entry point: the interpreter's own site-packages
        site = _site_packages_under(os.path.dirname(os.path.dirname(interpreter)))
    if site is None:
        return attrs.evolve(found, problem=f"{script} is a Python script, but no nixos_rebuild package was found "
                                           "next to it or in the directories it adds to sys.path")
    return _with_interpreter(attrs.evolve(found, site_packages=site, ng=True), interpreter, environ, store_dir)


def _with_interpreter(
    found: Installation, interpreter: str | None, environ: Mapping[str, str], store_dir: str
) -> Installation:
    """Keep the package's own interpreter when it exists and is new enough; else find a python3.X of the version
    the package was built for (the site-packages directory names it), else any CPython >= 3.12."""
    built_for = _version_of_dir(found.site_packages or "")
    notes = []
    if interpreter:
        version = _version_of_name(interpreter) or built_for
        if not (os.path.isfile(interpreter) and os.access(interpreter, os.X_OK)):
            notes.append(f"its interpreter {interpreter} does not exist")
        elif version is not None and _too_old(version):
            notes.append(f"its interpreter {interpreter} is Python {version}, and the module needs 3.12 or newer")
        else:
            return attrs.evolve(found, interpreter=interpreter, python=version)
    if built_for is not None and _too_old(built_for):
        notes.append(f"it was built for Python {built_for}, and the module needs 3.12 or newer")
        return attrs.evolve(found, python=built_for, problem="; ".join(notes))
    wanted = [built_for] if built_for else []
    wanted += [version for version in ("3.14", "3.13", "3.12") if version != built_for]
    for version in wanted:
        other = find_python(version, environ, store_dir)
        if other:
            return attrs.evolve(found, interpreter=other, python=built_for or version)
    notes.append(f"no Python {built_for or '3.12 or newer'} found on PATH, in pyenv or in {store_dir}")
    return attrs.evolve(found, python=built_for, problem="; ".join(notes))


def find_python(version: str, environ: Mapping[str, str], store_dir: str = STORE_DIR) -> str | None:
    """A `python3.X` of exactly this version: on PATH (pyenv shims left out: they depend on the directory they
    are run in), in pyenv's versions, or in the Nix store."""
    name = f"python{version}"
    for directory in environ.get("PATH", "").split(os.pathsep):
        path = os.path.join(directory, name)
        if directory and "shims" not in directory.split(os.sep) and os.access(path, os.X_OK):
            return path
    pyenv = environ.get("PYENV_ROOT") or os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".pyenv")
    candidates = glob.glob(os.path.join(glob.escape(pyenv), "versions", f"{version}.*", "bin", name))
    candidates += glob.glob(os.path.join(glob.escape(store_dir), f"*-python3-{version}.*", "bin", name))
    candidates = [path for path in candidates if os.access(path, os.X_OK)]
    return max(candidates, key=_release_key) if candidates else None


def _store_installations(store_dir: str) -> list[str]:
    """`*-nixos-rebuild-ng-<version>` package directories, newest version first."""
    try:
        names = [entry.name for entry in os.scandir(store_dir)
                 if "-nixos-rebuild-ng-" in entry.name and not entry.name.endswith(".drv") and entry.is_dir()]
    except OSError:
        return []
    names.sort(key=lambda name: (_release_key(_STORE_VERSION_RE.search(name).group(1)), name), reverse=True)
    return [os.path.join(store_dir, name) for name in names]


def _site_packages_under(prefix: str) -> str | None:
    found = sorted(glob.glob(os.path.join(glob.escape(prefix), "lib", "python3.*", "site-packages", "nixos_rebuild")),
                   key=_release_key, reverse=True)
    return os.path.dirname(found[0]) if found else None


def _read_head(path: str) -> str | None:
    """The start of a script as text, or None for a binary."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD)
    except OSError:
        return None
    if b"\0" in head:
        return None
    return head.decode("utf-8", errors="replace")


def _shebang_interpreter(text: str, environ: Mapping[str, str]) -> tuple[str, str | None] | None:
    """The program a `#!` line names (its basename for `env`) and, for a Python, its full path when known."""
    if not text.startswith("#!"):
        return None
    words = text[2:].splitlines()[0].split()
    if not words:
        return None
    program = words[0]
    if os.path.basename(program) == "env":
        rest = [word for word in words[1:] if not word.startswith("-") and "=" not in word]
        if not rest:
            return None
        program = rest[0]
        if not os.path.isabs(program):
            located = next((os.path.join(directory, program) for directory in environ.get("PATH", "").split(os.pathsep)
                            if directory and os.access(os.path.join(directory, program), os.X_OK)), None)
            return program, located
    return program, program


def _exec_target(text: str) -> str | None:
    for match in _EXEC_RE.finditer(text):
        target = next(group for group in match.groups() if group)
        if os.path.isabs(target):
            return target
    return None


def _wrapper_path(text: str) -> tuple[list[str], list[str]]:
    """Directories a makeWrapper script adds before and after $PATH. Both generations of makeWrapper output are
    read: `export PATH='/a:/b'${PATH:+':'}$PATH` and `PATH='/a'$PATH` (with ${PATH/…} lines that only tidy up)."""
    prefix: list[str] = []
    suffix: list[str] = []
    for value in _PATH_LINE_RE.findall(text):
        if re.search(r"\$\{PATH[/#%]", value):
            continue
        anchor = re.search(r"\$\{?PATH", value)
        for literal in re.finditer(r"'([^']*)'", value):
            directories = [part for part in literal.group(1).split(":") if part]
            if anchor is None or literal.start() < anchor.start():
                prefix.extend(directories)
            else:
                suffix.extend(directories)
    return prefix, suffix


def _version_of_dir(site_packages: str) -> str | None:
    match = _PYTHON_DIR_RE.search(site_packages)
    return match.group(1) if match else None


def _version_of_name(interpreter: str) -> str | None:
    match = _PYTHON_NAME_RE.search(os.path.basename(interpreter))
    return match.group(1) if match else None


def _too_old(version: str) -> bool:
    return tuple(int(part) for part in version.split(".")[:2]) < MIN_PYTHON


def _release_key(text: str) -> tuple[int, ...]:
    """Version numbers found in a name or path, for "newest first" ("25.11" > "25.5" > "0.0.0")."""
    return tuple(int(number) for number in re.findall(r"\d+", text))
