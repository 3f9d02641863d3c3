"""Which kind of problem a Nix message is, from its wording, and the names it mentions (option, package, file,
hash…).

The wording comes from Nix itself (2.8 through current: evaluation, builds, fetchers, flakes, profiles), from
nixpkgs (`lib/modules.nix`, `lib/options.nix`, `pkgs/stdenv/generic/check-meta.nix`, buildEnv's builder)
and from NixOS's switch-to-configuration. Several releases worded the same problem differently, so each
kind has every wording we know; the first pattern that matches wins, most specific first.
"""

from __future__ import annotations

import re

KINDS = (
    "syntax-error", "undefined-variable", "missing-attribute", "option-does-not-exist", "option-type-mismatch",
    "option-used-but-not-defined", "conflicting-definitions", "option-renamed", "option-removed",
    "unfree-package", "broken-package", "insecure-package", "unsupported-platform", "infinite-recursion",
    "failed-assertion", "import-not-found", "type-error", "build-failed", "hash-mismatch", "file-collision",
    "permission-denied", "flake-attr-missing", "flake-untracked-file", "activation-failed", "out-of-space",
    "network-failure", "unknown",
)

_Q = r"[`'‘\"]"  # Nix and nixpkgs quote with `x', 'x', ‘x’ or "x"
_E = r"[`'’\"]"


def _opt(n: str = "") -> str:
    return rf"{_Q}(?P<option{n}>[^`'’]+){_E}"


# check-meta until 2025: Package ‘x-1.0’ in /nix/store/…/default.nix:20 <reason>, refusing to evaluate.
# since 2025: Refusing to evaluate package 'x-1.0' in /nix/store/…/default.nix:20 because it <reason>
_PACKAGE = (r"(?:Package [‘'](?P<package>[^’']+)[’'](?: \(.*?\))? in (?P<where>\S+?)(?::\d+)?|"
            r"Refusing to evaluate package [‘'](?P<package2>[^’']+)[’'] in (?P<where2>\S+?)(?::\d+)? because it)")
_STORE_PATH = r"/nix/store/[a-z0-9]{32}-"

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(p, re.DOTALL)) for kind, p in (
    ("syntax-error", (r"^syntax error|^attribute '(?P<attr>[^']+)' (?:at \S+ )?already defined|^invalid path|"
                     r"has a trailing slash|^undefined variable .* in (inherit)|^unexpected end of file")),
    ("undefined-variable", r"^undefined variable '(?P<name>[^']+)'"),
    ("option-type-mismatch", (rf"^A definition for option {_opt()} is not of type {_Q}(?P<type>.+?){_E}\."
                             rf"|^The option value {_Q}(?P<option2>[^`'’]+){_E} in {_Q}(?P<file2>[^`'’]+){_E} is not "
                             rf"of type {_Q}(?P<type2>.+?){_E}\.")),
    ("option-used-but-not-defined", rf"^The option {_opt()} (?:is used but not defined|was accessed but has no value defined)"),
    ("conflicting-definitions", (rf"^The (?:unique )?option {_opt()} (?:has conflicting definition|is defined multiple "
                                 rf"times|is read-only, but it's set multiple times|in {_Q}(?P<file>[^`'’]+){_E} is "
                                 r"already declared in)")),
    ("option-renamed", (rf"The option {_opt()} defined in {_Q}(?P<file>[^`'’]+){_E} has been (?:renamed|changed) to "
                       rf"{_Q}(?P<new>[^`'’]+){_E}|Obsolete option {_opt('2')} is used\. It was renamed to {_Q}(?P<new2>[^`'’]+){_E}")),
    ("option-removed", (rf"The option definition {_opt()} in {_Q}(?P<file>[^`'’]+){_E} no longer has any effect"
                       rf"|The option {_opt('2')} can no longer be used since it's been removed")),
    ("option-does-not-exist", rf"The option {_opt()} does not exist"),
    ("unfree-package", rf"{_PACKAGE} has an unfree license"),
    ("broken-package", rf"{_PACKAGE} (?:is marked as broken|has problems:\s*- broken)"),
    ("insecure-package", rf"{_PACKAGE} is marked as insecure"),
    ("unsupported-platform", rf"{_PACKAGE} (?:is not (?:available|supported) on|has an unsupported)"),
    ("infinite-recursion", r"infinite recursion encountered"),
    ("failed-assertion", (r"^assertion (?:'(?P<condition>.*)' )?failed|^Failed assertions?:|"
                         r"^evaluation aborted with the following error message")),
    ("hash-mismatch", (r"hash mismatch in fixed-output derivation '(?P<drv>[^']+)'|hash mismatch in file downloaded "
                      r"from '(?P<url>[^']+)'|NAR hash mismatch in input '(?P<input>[^']+)'|hash mismatch importing path")),
    ("flake-attr-missing", r"flake '(?P<flake>[^']+)' does not provide attribute '(?P<attr>[^']+)'"),
    ("flake-untracked-file", (r"^Path '(?P<path>[^']+)' in the repository \"(?P<repo>[^\"]+)\" is not tracked by Git|"
                             rf"is not tracked by Git|^getting status of '{_STORE_PATH}source/(?P<path2>[^']+)': No such "
                             rf"file|^path '{_STORE_PATH}source/(?P<path3>[^']+)' does not exist")),
    ("out-of-space", r"No space left on device|\[Errno 28\]"),
    ("file-collision", (r"collision between [`'](?P<first>[^`']+)' and [`'](?P<second>[^`']+)'|"
                       r"^packages '(?P<first2>[^']+)' and '(?P<second2>[^']+)' have the same priority|"
                       r"There is a conflict for the following files:(?:\s*(?P<first3>\S+)\s+(?P<second3>\S+))?|"
                       r"two given paths contain a conflicting subpath(?::\s*[`'](?P<first4>[^`']+)' and\s*[`'](?P<second4>[^`']+)')?|"
                       r"An existing package already provides the following file")),
    ("permission-denied", (r"Permission denied|not privileged|Operation not permitted|is not a trusted user|"
                          r"you don't have permission")),
    ("network-failure", (r"unable to download '(?P<url>[^']+)'|Couldn't resolve host|Could not resolve host|"
                        r"Connection (?:refused|timed out|reset)|Timeout was reached|unable to connect|Network is unreachable")),
    ("activation-failed", (r"the following units failed|error\(s\) occurred while switching|Failed to install bootloader|"
                          r"Activation script snippet '(?P<snippet>[^']+)' failed|switch-to-configuration.* failed")),
    ("import-not-found", (r"^getting status of '(?P<path>[^']+)': No such file|^path '(?P<path2>[^']+)' does not exist|"
                         r"^opening file '(?P<path3>[^']+)': No such file|^file '(?P<path4>[^']+)' was not found in the Nix search path")),
    ("missing-attribute", r"^attribute '(?P<attr>[^']+)' missing"),
    ("type-error", (r"^value is (?:a|an|the) .* while (?:a|an) .* was expected|^expected a .* but found|^cannot coerce|"
                   r"^attempt to call something which is not a function|called without required argument|"
                   r"called with unexpected argument|^cannot add|^expected a .* but (?:got|found)|^cannot convert")),
    ("build-failed", (r"builder for '(?P<drv>[^']+)' failed|^Cannot build '(?P<drv2>[^']+)'|^build of '(?P<drv3>[^']+)' failed|"
                     r"dependencies couldn't be built|^\d+ dependencies of derivation '(?P<drv4>[^']+)'")),
))

# a dependency that failed to build, said again for each derivation that needed it: never a cause of its own
DEPENDENCY_FAILED = re.compile(r"^\d+ dependenc(?:y|ies) (?:of derivation .* )?(?:failed to build|couldn't be built)|"
                               r"Reason: \d+ dependenc(?:y|ies) failed")

# a build or a switch that failed for a reason its log tail names: the named reason is the finding
CAUSES_IN_LOGS = ("out-of-space", "file-collision", "network-failure", "hash-mismatch", "permission-denied")


def classify(message: str) -> tuple[str, dict[str, str]]:
    """The kind of a Nix message and the named parts the pattern captured (option, package, path…); a part
    captured under a numbered alias (`package2`) is returned under its plain name."""
    for kind, pattern in PATTERNS:
        found = pattern.search(message)
        if found:
            parts: dict[str, str] = {}
            for name, value in found.groupdict().items():
                if value is not None:
                    parts.setdefault(name.rstrip("0123456789"), value)
            return kind, parts
    return "unknown", {}


def cause_in_log(lines: list[str] | tuple[str, ...]) -> tuple[str, dict[str, str]] | None:
    """A specific cause (disk full, collision, download failure…) named in a build's or switch's log tail."""
    tail = [_LOG_PREFIX.sub("", line) for line in lines[-LOG_LINES_READ:]]
    for start in range(len(tail) - 1, -1, -1):
        kind, parts = classify("\n".join(tail[start:]))
        if kind in CAUSES_IN_LOGS:
            return kind, parts
    return None


LOG_LINES_READ = 30
_LOG_PREFIX = re.compile(r"^\s*(?:> ?)?(?:(?:pkgs\.buildEnv )?error: )?")
