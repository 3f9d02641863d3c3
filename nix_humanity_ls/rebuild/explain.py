"""Nix's error output → findings a NixOS user can act on: what kind of problem it is, where it is in their own
files, what it means in plain words, and what to change.

This is the core the CLI (`nix-humanity explain`) and the rebuild diagnostics use; it knows nothing about LSP.

Entry points:

- `explain_result(stderr_text, config_files, style, sources=None, options=None) -> Explanation` is what a
  rebuild calls with everything Nix printed (plain text of any Nix from 2.8 on, `@nix` internal-json lines,
  or both mixed). `config_files` are the configuration's entry files (`configuration.nix`, or a flake's
  `flake.nix`); the files they import are followed statically (`config_files.ConfigFiles`). `sources` maps
  paths to the text an editor holds, so positions and edits match unsaved buffers; `options` is the user's
  nixpkgs option index, for renames and did-you-mean. The result's findings are de-duplicated (a failed
  dependency chain shows one build failure; a builder's failure after the collision or full disk that caused
  it is a consequence) and ordered: root causes first (`Finding.root` is true), then consequences, then
  warnings (renamed options…). `Explanation.root` is the first root cause.
- `explain(text, config_file=None, style="friendly") -> list[Finding]`: the same findings as a list, for
  one configuration file.

Each `Finding` has the kind (`explain_kinds.KINDS`), a title and an explanation in the chosen
`explanationStyle` (`explain_words`), the place (1-based line and column, in the user's copy of the file Nix
named, or found in the syntax trees when Nix names none: `explain_places`), Nix's whole raw text, and
`Fix`es, which carry byte-offset edits for that file when the change can be made (`explain_fixes`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

import attrs

from ..knowledge.packages import bundled_index
from ..knowledge.vocabulary import split_path
from ..nixpkgs.records import OptionIndex
from .config_files import ConfigFiles
from .explain_fixes import Fix, Problem, fixes, pname, store_name
from .explain_kinds import CAUSES_IN_LOGS, DEPENDENCY_FAILED, KINDS, cause_in_log, classify
from .explain_places import Place, hash_literal, import_literal, option_binding, package_element, position
from .explain_words import STYLES, words
from .nix_hash import parse as parse_hash
from .nix_log import NixMessage, read_messages

__all__ = ["KINDS", "STYLES", "Explanation", "Finding", "Fix", "explain", "explain_result"]

LOG_TAIL = 10

# warnings (and `trace: warning:`) that are findings of their own; other warnings, such as download retries
# before the real error, only repeat what the error says
_WARNING_KINDS = frozenset({"option-renamed", "option-removed", "activation-failed", "out-of-space"})
# kinds that stop the operation even when Nix or NixOS print them as warnings
_FAILURES = frozenset({"activation-failed", "out-of-space"})
_BUILD_FAILURE = re.compile(r"^Cannot build '|^builder for '|^build of '")
_PACKAGE_KINDS = frozenset({"unfree-package", "broken-package", "insecure-package", "unsupported-platform"})


@attrs.frozen
class Finding:
    kind: str
    title: str
    explanation: str
    raw: str  # Nix's whole message as printed (with the log lines before it), so the original is always at hand
    message: str  # Nix's own wording of the problem, without frames and code
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based, in characters
    option: str | None = None
    package: str | None = None
    fixes: tuple[Fix, ...] = ()
    end_line: int | None = None  # end of the span the finding covers (1-based, exclusive column)
    end_column: int | None = None
    severity: str = "error"  # "error" or "warning"
    root: bool = False  # a root cause of the failure (not a consequence of another finding, not a warning)


@attrs.frozen
class Explanation:
    """Every finding of one Nix run, root causes first."""

    findings: tuple[Finding, ...]

    @property
    def root(self) -> Finding | None:
        return next((f for f in self.findings if f.root), None)


def explain(text: str, config_file: str | None = None, style: str = "friendly") -> list[Finding]:
    """Findings for Nix output `text`, root causes first; option errors are located in `config_file` (and
    the files it imports)."""
    return list(explain_result(text, [config_file] if config_file else [], style).findings)


def explain_result(
    stderr_text: str, config_files: Sequence[str] = (), style: str = "friendly", *,
    sources: Mapping[str, str | bytes] | None = None, options: OptionIndex | None = None,
) -> Explanation:
    """See the module docstring."""
    if style not in STYLES:
        raise ValueError(f"unknown explanation style {style!r}; use one of {', '.join(STYLES)}")
    files = ConfigFiles(config_files, sources)
    causes: list[Finding] = []
    consequences: list[Finding] = []
    warnings: list[Finding] = []
    dependency_failures: list[NixMessage] = []
    seen: set[tuple[object, ...]] = set()
    previous: Finding | None = None
    for message in read_messages(stderr_text):
        items = _items(message.message)
        for text in items:
            kind, parts = classify(text)
            if kind == "unknown" and items != [message.message]:
                kind = "failed-assertion"  # an item of NixOS's `Failed assertions:` list
            if message.level != "error" and kind not in _WARNING_KINDS:
                continue
            if DEPENDENCY_FAILED.search(text):
                dependency_failures.append(message)  # said again for each dependent: never a cause itself
                continue
            finding = _finding(message, text, kind, parts, files, style, options)
            key = (finding.kind, finding.option, finding.package, finding.file, finding.line, finding.message
                   if finding.kind in ("failed-assertion", "unknown", "type-error") else None)
            if key in seen:
                continue
            seen.add(key)
            if finding.severity == "warning":
                warnings.append(finding)
            elif finding.kind == "build-failed" and previous is not None and previous.kind in CAUSES_IN_LOGS:
                consequences.append(finding)  # the builder failed because of the collision or full disk before
            else:
                causes.append(attrs.evolve(finding, root=True))
            previous = finding
    if not causes and dependency_failures:  # the log lost the first failure: the dependency chain is all there is
        message = dependency_failures[0]
        kind, parts = classify(message.message)
        causes.append(attrs.evolve(_finding(message, message.message, "build-failed", parts, files, style, options), root=True))
    return Explanation(tuple(causes + consequences + warnings))


def _items(message: str) -> list[str]:
    """NixOS reports every failed assertion in one message (`Failed assertions:` then `- …` per item, an item
    going on over more lines): each is a problem of its own."""
    lines = message.strip().splitlines()
    if not lines or not re.match(r"Failed assertions?:", lines[0]):
        return [message]
    items: list[list[str]] = []
    for line in lines[1:]:
        if line.startswith("- "):
            items.append([line[2:]])
        elif items:
            items[-1].append(line)
    return ["\n".join(item).strip() for item in items] or [message]


def _finding(message: NixMessage, text: str, kind: str, parts: dict[str, str], files: ConfigFiles, style: str,
             options: OptionIndex | None) -> Finding:
    if kind in ("build-failed", "activation-failed") or _BUILD_FAILURE.search(text):
        tail = [*message.context, *message.message.splitlines()[1:]]
        cause = cause_in_log(tail)
        if cause is not None:
            kind, found = cause
            parts = {**found, **{k: v for k, v in parts.items() if k == "drv"}}
    option = parts.get("option")
    if option:  # a list element's type error names `ports."[definition 1-entry 1]"`: the option is `ports`
        option = re.sub(r'\."\[definition [^]]*\]"', "", option)
    package = _package(kind, parts, text)
    place, binding = _place(message, text, kind, parts, option, package, files)
    file, line, column, end_line, end_column = message.file, message.line, message.column, None, None
    if place is not None:
        file = place.file
        (line, column), (end_line, end_column) = place.line_column(place.start), place.line_column(place.end)
    elif file is not None and files.match(file) is not None:
        file, line, column = files.match(file), None, None  # our copy changed since Nix read it: no stale line
    elif file is None and (kind.startswith("option-") or kind == "conflicting-definitions"):
        file = parts.get("file") or _definition_file(text)
    problem = Problem(kind, parts, text, message.raw, option, package, place, binding)
    fields = _fields(kind, parts, option, package, text, message)
    title, explanation = words(kind, style, fields)
    if style == "expert":
        where = f" at {file}:{line}:{column}" if file and line else (f" in {file}" if file else "")
        explanation += f" [{kind}{where}] Nix said: {' '.join(text.split())}"
    elif style == "friendly" and kind == "build-failed":
        tail = _log_tail(message)
        if tail:
            explanation += " Last lines: " + " | ".join(tail[-3:])
    raw = message.raw
    if message.context:
        raw = "\n".join((*message.context[-LOG_TAIL:], raw))
    severity = "warning" if message.level != "error" and kind not in _FAILURES else "error"
    return Finding(kind, title, explanation, raw, text, file, line, column, option, package,
                   tuple(fixes(problem, files, options)), end_line, end_column, severity)


def _place(message: NixMessage, text: str, kind: str, parts: dict[str, str], option: str | None,
           package: str | None, files: ConfigFiles) -> tuple[Place | None, object | None]:
    """Where the finding is in the user's files (and the option's binding, for option errors)."""
    if message.file is not None:
        quoted = _quoted_line(message.raw, message.file, message.line)
        return position(files, message.file, message.line, message.column, quoted), None
    if option and (kind.startswith("option-") or kind == "conflicting-definitions"):
        found = option_binding(files, split_path(option), parts.get("file") or _definition_file(text))
        return found if found is not None else (None, None)
    if package and (kind in _PACKAGE_KINDS or kind == "build-failed"):
        return package_element(files, pname(package)), None
    if kind == "file-collision":
        names = [store_name(parts[k]) for k in ("first", "second") if parts.get(k)]
        return next((p for p in (package_element(files, pname(n)) for n in names if n) if p is not None), None), None
    if kind == "hash-mismatch":
        specified = re.search(r"specified:\s+(\S+)", message.raw)
        written = parse_hash(specified.group(1)) if specified else None
        found = hash_literal(files, written) if written is not None else None
        return (found[0] if found else None), None
    if kind in ("import-not-found", "flake-untracked-file") and parts.get("path"):
        missing = parts["path"]
        if not missing.startswith("/"):
            missing = os.path.join(parts.get("repo") or os.path.dirname(files.entries[0] if files.entries else "/"), missing)
        return import_literal(files, missing), None
    return None, None


def _quoted_line(raw: str, file: str, line: int | None) -> str | None:
    """The source line Nix quoted in its code frame under `at FILE:LINE:COL:`, as it was when Nix read it."""
    lines = raw.splitlines()
    marker = f"{file}:{line}:"
    for index, text in enumerate(lines):
        if marker in text and text.strip().startswith("at "):
            for frame in lines[index + 1 : index + 6]:
                found = re.match(r"^\s*(\d+)\| ?(.*)$", frame)
                if found and int(found.group(1)) == line:
                    return found.group(2)
            return None
    return None


def _definition_file(message: str) -> str | None:
    found = re.search(r"(?:- In|defined in|in) [`'‘\"](/[^`'’\"]+?)[`'’\"]", message)
    return found.group(1) if found else None


def _package(kind: str, parts: dict[str, str], message: str) -> str | None:
    if "package" in parts:
        return parts["package"]
    if "drv" in parts:
        return re.sub(r"^/nix/store/[a-z0-9]{32}-|\.drv$", "", parts["drv"])
    if kind == "missing-attribute":
        return parts.get("attr")
    if kind == "undefined-variable" and bundled_index().get(parts.get("name", "")) is not None:
        return parts["name"]
    return None


# Nix's own progress lines between a build's log lines: not part of what the builder said
_NIX_PROGRESS = re.compile(r"^(?:building '|this derivation|these \d+ derivations|\s+/nix/store/|copying path )")


def _log_tail(message: NixMessage) -> list[str]:
    tail = [line for line in message.context if not _NIX_PROGRESS.match(line)]
    if not tail:  # newer Nix puts the tail inside the error, each line starting with `> `
        tail = [m.group(1) for m in re.finditer(r"^\s*> ?(.*)$", message.raw, re.MULTILINE)]
    return tail


def _fields(kind: str, parts: dict[str, str], option: str | None, package: str | None, text: str,
            message: NixMessage) -> dict[str, str]:
    first = text.strip().splitlines()[0] if text.strip() else ""
    units = re.search(r"the following units failed: (.+)", message.raw)
    path = parts.get("path") or "the file"
    return {
        "o": f"`{option}`", "p": f"`{package}`", "name": parts.get("name") or parts.get("attr") or "",
        "path": path, "type": parts.get("type") or "", "new": parts.get("new") or "", "first": first,
        "attr": parts.get("attr") or "", "flake": parts.get("flake") or "the flake",
        "units": f" (failed: {units.group(1).strip()})" if units else "",
    }
