"""Nix's error output → findings a NixOS user can act on: what kind of problem it is, where it is in their own
files, what it means in plain words, and what to change.

This is the core the CLI (`nix-humanity explain`) and, later, the rebuild diagnostics use; it knows nothing
about LSP. Option errors from the module system name only a file, so the binding is found in that file's
syntax tree; packages and options get did-you-mean fixes from the bundled knowledge.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Iterable

import attrs

from ..files import FileProblem, read_nix_file
from ..knowledge.packages import bundled_index
from ..knowledge.vocabulary import bundled_vocabulary, split_path
from ..syntax.document import Document, PositionEncoding
from ..syntax.query import find_bindings, module_attrset, option_lists
from .nix_log import NixMessage, read_messages

KINDS = (
    "syntax-error", "undefined-variable", "missing-attribute", "option-does-not-exist", "option-type-mismatch",
    "option-used-but-not-defined", "conflicting-definitions", "option-renamed", "option-removed",
    "unfree-package", "broken-package", "insecure-package", "unsupported-platform", "infinite-recursion",
    "failed-assertion", "import-not-found", "type-error", "build-failed", "hash-mismatch", "file-collision",
    "permission-denied", "flake-attr-missing", "flake-untracked-file", "activation-failed", "out-of-space",
    "network-failure", "unknown",
)
STYLES = ("friendly", "concise", "expert")
LOG_TAIL = 10


@attrs.frozen
class Fix:
    """A way out: `title` for a person; `edit` a concrete change when there is one to make."""

    title: str
    edit: str | None = None


@attrs.frozen
class Finding:
    kind: str
    title: str
    explanation: str
    raw: str  # Nix's whole message as printed, kept so the user can always see the original
    message: str  # Nix's own wording of the problem, without frames and code
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    option: str | None = None
    package: str | None = None
    fixes: tuple[Fix, ...] = ()


# ---- recognising the kind -------------------------------------------------------------------------------------

_Q = r"[`'‘\"]"  # Nix and nixpkgs quote with `x', 'x', ‘x’ or "x"
_E = r"[`'’\"]"
_PACKAGE = r"Package ‘(?P<package>[^’]+)’(?: \(.*?\))? in (?P<where>\S+?)(?::\d+)?"

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(p, re.DOTALL)) for kind, p in (
    ("syntax-error", (r"^syntax error|^attribute '(?P<attr>[^']+)' (?:at \S+ )?already defined|^invalid path|"
                     r"has a trailing slash|^path '.*' has a trailing slash|^undefined variable .* in (inherit)")),
    ("undefined-variable", r"^undefined variable '(?P<name>[^']+)'"),
    ("option-type-mismatch", (rf"^A definition for option {_Q}(?P<option>[^`'’]+){_E} is not of type {_Q}(?P<type>.+?){_E}\."
                             rf"|^The option value {_Q}(?P<option2>[^`'’]+){_E} in {_Q}(?P<file2>[^`'’]+){_E} is not of type {_Q}(?P<type2>.+?){_E}\.")),
    ("option-used-but-not-defined", rf"^The option {_Q}(?P<option>[^`'’]+){_E} (?:is used but not defined|was accessed but has no value defined)"),
    ("conflicting-definitions", rf"^The (?:unique )?option {_Q}(?P<option>[^`'’]+){_E} (?:has conflicting definition|is defined multiple times)"),
    ("option-renamed", rf"The option {_Q}(?P<option>[^`'’]+){_E} defined in {_Q}(?P<file>[^`'’]+){_E} has been renamed to {_Q}(?P<new>[^`'’]+){_E}"),
    ("option-removed", rf"The option definition {_Q}(?P<option>[^`'’]+){_E} in {_Q}(?P<file>[^`'’]+){_E} no longer has any effect"),
    ("option-does-not-exist", rf"The option {_Q}(?P<option>[^`'’]+){_E} does not exist"),
    ("unfree-package", rf"{_PACKAGE} has an unfree license"),
    ("broken-package", rf"{_PACKAGE} is marked as broken"),
    ("insecure-package", rf"{_PACKAGE} is marked as insecure"),
    ("unsupported-platform", rf"{_PACKAGE} (?:is not (?:available|supported) on|is not supported on|has an unsupported)"),
    ("infinite-recursion", r"infinite recursion encountered"),
    ("failed-assertion", (r"^assertion (?:'(?P<condition>.*)' )?failed|^Failed assertions:|"
                         r"^evaluation aborted with the following error message")),
    ("hash-mismatch", r"hash mismatch in fixed-output derivation '(?P<drv>[^']+)'"),
    ("flake-attr-missing", r"flake '(?P<flake>[^']+)' does not provide attribute '(?P<attr>[^']+)'"),
    ("flake-untracked-file", r"is not tracked by Git|^getting status of '/nix/store/[a-z0-9]{32}-source/(?P<path>[^']+)': No such file"),
    ("out-of-space", r"No space left on device"),
    ("permission-denied", r"Permission denied|not privileged|Operation not permitted|is not a trusted user"),
    ("network-failure", (r"unable to download '(?P<url>[^']+)'|Couldn't resolve host|Could not resolve host|"
                        r"Connection (?:refused|timed out)|Timeout was reached|unable to connect|Network is unreachable")),
    ("file-collision", (r"collision between [`'](?P<first>[^`']+)' and [`'](?P<second>[^`']+)'"
                       r"|An existing package already provides the following file")),
    ("activation-failed", (r"the following units failed|error\(s\) occurred while switching|"
                          r"Activation script snippet '(?P<snippet>[^']+)' failed|switch-to-configuration.* failed")),
    ("import-not-found", (r"^getting status of '(?P<path>[^']+)': No such file|^path '(?P<path2>[^']+)' does not exist|"
                         r"^opening file '(?P<path3>[^']+)': No such file|^file '(?P<path4>[^']+)' was not found in the Nix search path")),
    ("missing-attribute", r"^attribute '(?P<attr>[^']+)' missing"),
    ("type-error", (r"^value is (?:a|an|the) .* while (?:a|an) .* was expected|^cannot coerce|^attempt to call something "
                   r"which is not a function|called without required argument|called with unexpected argument|"
                   r"^cannot add|^expected a .* but (?:got|found)|^cannot convert")),
    ("build-failed", (r"builder for '(?P<drv>[^']+)' failed|^Cannot build '(?P<drv2>[^']+)'|^build of '(?P<drv3>[^']+)' failed|"
                     r"dependencies couldn't be built|^\d+ dependencies of derivation")),
))

# warnings (and `trace: warning:`) that are findings of their own; other warnings, such as download retries
# before the real error, only repeat what the error says
_WARNING_KINDS = frozenset({"option-renamed", "option-removed", "activation-failed", "out-of-space"})


_FOLLOW_UP = re.compile(r"^\d+ dependenc(?:y|ies) (?:of derivation .* )?(?:failed to build|couldn't be built)")


def classify(message: str) -> tuple[str, dict[str, str]]:
    """The kind of a Nix message and the named parts the pattern captured (option, package, path…)."""
    for kind, pattern in _PATTERNS:
        found = pattern.search(message)
        if found:
            return kind, {k: v for k, v in found.groupdict().items() if v is not None}
    return "unknown", {}


# ---- building findings ------------------------------------------------------------------------------------------


def explain(text: str, config_file: str | None = None, style: str = "friendly") -> list[Finding]:
    """Findings for Nix output `text` (plain or internal-json), in order, one per distinct problem.

    `config_file` is the user's configuration: option errors that name no position (or name it by another
    path, such as `/etc/nixos/configuration.nix` for a copy being edited) are located in it."""
    if style not in STYLES:
        raise ValueError(f"unknown explanation style {style!r}; use one of {', '.join(STYLES)}")
    findings: list[Finding] = []
    seen: set[tuple[object, ...]] = set()
    for message in read_messages(text):
        kind, parts = classify(message.message)
        if message.level != "error" and kind not in _WARNING_KINDS:
            continue
        if findings and _FOLLOW_UP.search(message.message):
            continue  # "1 dependencies of derivation … failed to build" only repeats the failure above it
        finding = _finding(message, kind, parts, config_file, style)
        key = (finding.kind, finding.option, finding.package, finding.file, finding.line)
        if key in seen:
            continue
        seen.add(key)
        findings.append(finding)
    return findings


def _finding(message: NixMessage, kind: str, parts: dict[str, str], config_file: str | None, style: str) -> Finding:
    option = parts.get("option") or parts.get("option2")
    if option:  # a list element's type error names `ports."[definition 1-entry 1]"`: the option is `ports`
        option = re.sub(r'\."\[definition [^]]*\]"', "", option)
    package = _package(kind, parts, message.message)
    file, line, column = message.file, message.line, message.column
    named_file = parts.get("file") or parts.get("file2") or _definition_file(message.message)
    if file is None and kind.startswith(("option-", "conflicting")) and option:
        file, line, column = _locate_option(option, named_file, config_file)
    elif file is None and package and kind in ("unfree-package", "broken-package", "insecure-package",
                                                 "unsupported-platform", "missing-attribute"):
        file, line, column = _locate_package(_pname(package), config_file)
    if file is None and named_file and kind.startswith(("option-", "conflicting")):
        file = named_file
    fixes = tuple(_fixes(kind, parts, option, package, message))
    title, friendly, concise = _words(kind, parts, option, package, message)
    if style == "friendly":
        explanation = friendly
    elif style == "concise":
        explanation = concise
    else:
        where = f" at {file}:{line}:{column}" if file and line else (f" in {file}" if file else "")
        explanation = f"{concise} [{kind}{where}] Nix: {message.message}"
    raw = message.raw
    if message.context:
        raw = "\n".join((*message.context[-LOG_TAIL:], raw))
    return Finding(kind, title, explanation, raw, message.message, file, line, column, option, package, fixes)


def _definition_file(message: str) -> str | None:
    found = re.search(rf"(?:- In|defined in|in) {_Q}(/[^`'’]+?){_E}", message)
    return found.group(1) if found else None


def _package(kind: str, parts: dict[str, str], message: str) -> str | None:
    if "package" in parts:
        return parts["package"]
    drv = parts.get("drv") or parts.get("drv2") or parts.get("drv3")
    if drv:
        return re.sub(r"^/nix/store/[a-z0-9]{32}-|\.drv$", "", drv)
    if kind == "missing-attribute":
        return parts.get("attr")
    if kind == "undefined-variable" and bundled_index().get(parts.get("name", "")) is not None:
        return parts["name"]
    return None


def _pname(name: str) -> str:
    """`firefox-121.0` → `firefox`: nixpkgs' `name` is pname-version, the version starting with a digit."""
    return re.sub(r"-\d.*$", "", name)


def _candidate_files(named: str | None, config_file: str | None) -> list[str]:
    """Files that may hold the binding: the one Nix named, when it exists here, and the user's configuration
    when Nix named none or a file of the same name (the copy being edited of /etc/nixos/configuration.nix)."""
    found = []
    if named and os.path.isfile(named):
        found.append(named)
    if config_file and (named is None or os.path.basename(named) == os.path.basename(config_file)):
        found.append(config_file)
    return list(dict.fromkeys(found))


@functools.lru_cache(maxsize=32)
def _document(path: str, mtime: float) -> Document | None:
    try:
        return Document(path, read_nix_file(path))
    except FileProblem:
        return None


def _load(path: str) -> Document | None:
    try:
        return _document(path, os.path.getmtime(path))
    except OSError:
        return None


def _position(doc: Document, offset: int) -> tuple[int, int]:
    position = doc.position_at(offset, PositionEncoding.UTF32)
    return position.line + 1, position.character + 1


def _locate_option(option: str, named: str | None, config_file: str | None) -> tuple[str | None, int | None, int | None]:
    """Where `option` is set, found in the syntax tree (any spelling: dotted, nested, inside `mkIf`)."""
    path = split_path(option)
    for candidate in _candidate_files(named, config_file):
        doc = _load(candidate)
        attrset = module_attrset(doc.tree) if doc is not None else None
        if doc is None or attrset is None:
            continue
        found = find_bindings(attrset, path)
        if not found:  # `services.foo.bar' does not exist: point at the closest enclosing binding there is
            for length in range(len(path) - 1, 1, -1):
                found = find_bindings(attrset, path[:length])
                if found:
                    break
        if found:
            return (candidate, *_position(doc, found[0].attrpath.start_byte))
    return None, None, None


def _locate_package(pname: str, config_file: str | None) -> tuple[str | None, int | None, int | None]:
    """Where a refused package is listed in environment.systemPackages (or a user's packages) of the file."""
    doc = _load(config_file) if config_file else None
    attrset = module_attrset(doc.tree) if doc is not None else None
    if doc is None or attrset is None:
        return None, None, None
    for owner in (("environment", "systemPackages"),):
        for nix_list in option_lists(attrset, owner):
            for element in nix_list.elements:
                if element.name == pname:
                    return (config_file, *_position(doc, element.node.start_byte))
    return None, None, None


def _known_options() -> list[str]:
    vocabulary = bundled_vocabulary()
    paths = {".".join(s.path) for f in vocabulary.features for s in (*f.enable, *f.disable)}
    paths.update(vocabulary.renamed.values())
    return sorted(paths)


def _fixes(kind: str, parts: dict[str, str], option: str | None, package: str | None, message: NixMessage) -> Iterable[Fix]:
    vocabulary = bundled_vocabulary()
    if option and option in vocabulary.renamed:
        new = vocabulary.renamed[option]
        yield Fix(f"Use `{new}` instead", f"replace `{option}` with `{new}`")
    if kind == "option-renamed":
        yield Fix(f"Use `{parts['new']}` instead", f"replace `{option}` with `{parts['new']}`")
    removed = next((r for r in vocabulary.removed if option and (option == r.old or option.startswith(r.old + "."))), None)
    if kind in ("option-removed", "option-does-not-exist") and (removed or kind == "option-removed"):
        advice = f": {removed.advice}" if removed and removed.advice else ""
        yield Fix(f"Remove `{option}`{advice}", f"remove the line setting `{option}`")
    if kind == "option-does-not-exist" and option and option not in vocabulary.renamed and not removed:
        for close in difflib.get_close_matches(option, _known_options(), n=3, cutoff=0.8):
            yield Fix(f"Did you mean `{close}`?", f"replace `{option}` with `{close}`")
    if kind == "conflicting-definitions":
        yield Fix("Keep one value: wrap the one you want in `lib.mkForce`", f"set `{option} = lib.mkForce …;`")
    if kind == "option-type-mismatch":
        yield Fix(f"Give `{option}` a value of type {parts.get('type') or parts.get('type2')}")
    if kind == "option-used-but-not-defined":
        yield Fix(f"Set `{option}` in your configuration", f"add `{option} = …;`")
    if kind == "unfree-package":
        yield Fix("Allow unfree packages", "allow unfree (nixpkgs.config.allowUnfree = true)")
    if kind in ("unfree-package", "broken-package", "insecure-package", "unsupported-platform") and package:
        pname = _pname(package)
        yield Fix(f"Remove `{pname}`", f"remove the package `{pname}` from environment.systemPackages")
    if kind == "broken-package":
        yield Fix("Allow broken packages (it may still fail to build)", "nixpkgs.config.allowBroken = true")
    if kind == "insecure-package" and package:
        yield Fix(f"Accept the risk for `{package}`", f'nixpkgs.config.permittedInsecurePackages = [ "{package}" ]')
    if kind == "unsupported-platform":
        yield Fix("Try it anyway", "nixpkgs.config.allowUnsupportedSystem = true")
    if kind in ("undefined-variable", "missing-attribute"):
        word = parts.get("name") or parts.get("attr") or ""
        hinted = re.search(r"Did you mean (?:one of )?(.+?)\?", message.message)
        if hinted:
            for name in re.split(r",\s*|\s+or\s+", hinted.group(1)):
                yield Fix(f"Did you mean `{name.strip()}`?", f"replace `{word}` with `{name.strip()}`")
        matches = bundled_index().find(word) if word else []
        if kind == "undefined-variable" and matches and matches[0].how == "exact":
            yield Fix(f"Write `pkgs.{word}`", f"replace `{word}` with `pkgs.{word}` (or use `with pkgs; [ … ]`)")
        elif kind == "undefined-variable" and word in ("pkgs", "lib", "config"):
            yield Fix(f"Add `{word}` to the module's arguments", "change the first line to `{ config, pkgs, lib, ... }:`")
        elif not hinted:
            for match in matches[:3]:
                if match.package.attr != word:
                    yield Fix(f"Did you mean the package `{match.package.attr}`?", f"replace `{word}` with `{match.package.attr}`")
    if kind == "syntax-error":
        expecting = re.search(r"expecting (?:'(.)'|(\S+))", message.message)
        if expecting and expecting.group(1):
            yield Fix(f"Add the missing `{expecting.group(1)}` just before the marked spot")
        elif "already defined" in message.message:
            yield Fix("Keep only one of the two definitions")
        else:
            yield Fix("Close every `{`, `[`, `(` and quote you opened, and end each binding with `;`")
    if kind == "failed-assertion":
        yield Fix("Do what the message asks; it names the option or package to change")
    if kind == "hash-mismatch":
        got = re.search(r"got:\s+(\S+)", message.message) or re.search(r"got:\s+(\S+)", message.raw)
        specified = re.search(r"specified:\s+(\S+)", message.raw)
        if got:
            old = f"`{specified.group(1)}`" if specified else "the old hash"
            yield Fix(f"Use the hash Nix got: {got.group(1)}", f"replace {old} with `{got.group(1)}`")
    if kind == "import-not-found":
        yield Fix("Check the path, or create the file (hardware-configuration.nix comes from `nixos-generate-config`)")
    if kind == "flake-untracked-file":
        yield Fix("Add the file to git", "git add the file (flakes only see files git knows)")
    if kind == "flake-attr-missing":
        yield Fix("Use the host name defined in flake.nix", "nixos-rebuild --flake .#<name in nixosConfigurations>")
    if kind == "file-collision":
        yield Fix("Remove one of the two packages, or give one priority", "wrap one in `lib.hiPrio`")
    if kind == "permission-denied":
        yield Fix("Run it as root (sudo), or add your user to nix.settings.trusted-users")
    if kind == "out-of-space":
        yield Fix("Free space: delete old generations", "sudo nix-collect-garbage -d")
    if kind == "network-failure":
        yield Fix("Check the internet connection and try again, or build with --offline")
    if kind == "infinite-recursion":
        yield Fix("Do not use `config` to decide `imports` or to set the option it reads; use `lib.mkIf`")
    if kind == "activation-failed":
        units = re.search(r"the following units failed: (.+)", message.raw)
        if units:
            yield Fix(f"See why: journalctl -xeu {units.group(1).split(',')[0].strip()}")
        yield Fix("Go back to the previous generation", "nixos-rebuild switch --rollback")
    if kind == "build-failed":
        yield Fix("Read the log tail above; `nix log` shows the whole build log")


# ---- words --------------------------------------------------------------------------------------------------


# Nix's own progress lines between a build's log lines: not part of what the builder said
_NIX_PROGRESS = re.compile(r"^(?:building '|this derivation|these \d+ derivations|\s+/nix/store/|copying path )")


def _words(kind: str, parts: dict[str, str], option: str | None, package: str | None,
           message: NixMessage) -> tuple[str, str, str]:
    """(title, friendly explanation, one-line explanation) for a finding."""
    o, p = f"`{option}`", f"`{package}`"
    name = parts.get("name") or parts.get("attr") or ""
    path = next((parts[k] for k in ("path", "path2", "path3", "path4") if k in parts), "the file")
    first = message.message.splitlines()[0] if message.message else ""
    table: dict[str, tuple[str, str, str]] = {
        "syntax-error": ("Syntax error", (f"Nix could not read the file: {first}. Look just before the marked spot for "
                         "a missing `;`, `}` or `]`, or an unclosed quote."), f"syntax error: {first}"),
        "undefined-variable": (f"Unknown name `{name}`", (f"`{name}` is not defined here. If it is a package, write "
                               f"`pkgs.{name}` or put the list inside `with pkgs; [ … ]`; if it is `pkgs` or `lib`, add it "
                               "to the `{ config, pkgs, ... }:` line at the top."), f"undefined variable `{name}`"),
        "missing-attribute": (f"`{name}` does not exist", (f"There is no attribute `{name}` here. If it is a package, "
                              "its name may be spelled differently or it may have been renamed; check the suggestions."),
                              f"attribute `{name}` missing"),
        "option-does-not-exist": (f"Option {o} does not exist", (f"NixOS has no option {o}. It may be misspelled, renamed "
                                  "or removed, or it may belong to a module your system does not import."),
                                  f"no such option {o}"),
        "option-type-mismatch": (f"Wrong kind of value for {o}", (f"{o} needs a value of type "
                                 f"{parts.get('type') or parts.get('type2')}, but your definition gives something else "
                                 "(for example a string where true/false or a list is expected)."),
                                 f"{o} is not of type {parts.get('type') or parts.get('type2')}"),
        "option-used-but-not-defined": (f"{o} has no value", (f"Something in your system needs {o}, but nothing sets it. "
                                        "Set it in your configuration."), f"{o} used but not defined"),
        "conflicting-definitions": (f"Conflicting values for {o}", (f"{o} is set to different values in different places, "
                                    "and NixOS cannot pick one. Keep one, or mark the one you want with `lib.mkForce`."),
                                    f"conflicting definitions of {o}"),
        "option-renamed": (f"{o} was renamed", (f"{o} has a new name, `{parts.get('new')}`. It still works for now, but "
                           "use the new name."), f"{o} renamed to `{parts.get('new')}`"),
        "option-removed": (f"{o} was removed", (f"{o} no longer does anything in this NixOS release. Remove it "
                           "(the message says what replaces it, if anything)."), f"{o} removed"),
        "unfree-package": (f"{p} is not free software", (f"{p} has a licence that is not free, and NixOS refuses to build "
                           "such packages until you allow them. Allow unfree packages, or remove it."),
                           f"{p} is unfree and not allowed"),
        "broken-package": (f"{p} is marked broken", (f"{p} is known not to build or work in this nixpkgs version. Remove "
                           "it, use another version, or allow broken packages at your own risk."), f"{p} is broken"),
        "insecure-package": (f"{p} is insecure", (f"{p} has known security problems, so NixOS refuses it. Use a newer "
                             "version, or accept the risk for this exact version."), f"{p} is insecure"),
        "unsupported-platform": (f"{p} does not run on this machine", (f"{p} is not available for this machine's "
                                 "platform (for example it is x86_64-only and this is ARM). Remove it or pick an "
                                 "alternative."), f"{p} unsupported on this platform"),
        "infinite-recursion": ("Infinite recursion", ("A value depends on itself. In a configuration this usually means "
                               "`config` is used to decide `imports`, or an option is set from itself."),
                               "infinite recursion"),
        "failed-assertion": ("A check failed", (f"A check in the configuration or in nixpkgs failed: {first}. The "
                             "message says what it wants changed."), f"assertion failed: {first}"),
        "import-not-found": ("File not found", (f"Nix cannot find {path}. Check the path in `imports` or `import`; "
                             "relative paths start from the file that mentions them."), f"not found: {path}"),
        "type-error": ("Wrong type of value", (f"A value has the wrong type: {first}. For example a string where a "
                       "number or true/false is needed, or a function called with the wrong arguments."),
                       f"type error: {first}"),
        "build-failed": (f"Building {p} failed", (f"The build of {p} failed. The last lines of its log usually say why; "
                         "if it is a package from nixpkgs, it may be broken in this version."), f"build of {p} failed"),
        "hash-mismatch": (f"Wrong hash for {p}", ("A download or source did not match the hash written in the Nix file. "
                          "Put the hash Nix got into the file (after checking you trust the source)."),
                          f"hash mismatch in {p}"),
        "file-collision": ("Two packages provide the same file", ("Two packages you install contain a file with the same "
                           "name, so they cannot both be in the system. Remove one, or give one priority."),
                           "file collision between packages"),
        "permission-denied": ("Permission denied", ("Nix was not allowed to do this. Building or switching the system "
                              "needs root: run it with sudo, or ask for your user to be trusted."), "permission denied"),
        "flake-attr-missing": ("Not found in the flake", (f"The flake has no `{parts.get('attr', '')}`. Check the host "
                               "name after `#` against `nixosConfigurations` in flake.nix."),
                               f"flake lacks `{parts.get('attr', '')}`"),
        "flake-untracked-file": ("File not added to git", ("Your configuration is a flake, and flakes only see files git "
                                 "knows about. `git add` the file (no commit needed)."), "file not tracked by git"),
        "activation-failed": ("Switching to the new system failed", ("The new system was built, but starting it did not "
                              "fully work: some services failed. Check their logs, or roll back."),
                              "activation failed"),
        "out-of-space": ("Disk full", ("The disk ran out of space. Delete old generations and collect garbage, then try "
                         "again."), "no space left on device"),
        "network-failure": ("Download failed", ("Nix could not download something it needs. Check the network "
                            "connection (and any proxy), then try again."), "network failure"),
        "unknown": ("Nix reported an error", f"Nix said: {first}", first),
    }
    title, friendly, concise = table[kind]
    tail = [line for line in message.context if not _NIX_PROGRESS.match(line)]
    if not tail:  # newer Nix puts the tail inside the error, each line starting with `> `
        tail = [m.group(1) for m in re.finditer(r"^\s*> ?(.*)$", message.raw, re.MULTILINE)]
    if kind == "build-failed" and tail:
        friendly += " Last lines: " + " | ".join(tail[-3:])
    return title, friendly, concise
