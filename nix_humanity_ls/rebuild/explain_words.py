"""What each kind of problem means, in the three `explanationStyle`s a user can choose:

- `friendly`: what happened and what to do, in sentences, without Nix's vocabulary;
- `concise`: one short line, for people who know NixOS;
- `expert`: the mechanism behind the message (which part of Nix or nixpkgs raised it and why), then the
  location and Nix's own words, for people debugging their modules.

Titles do not depend on the style: they name the problem the same way everywhere (diagnostic lists, JSON).
"""

from __future__ import annotations

import string

STYLES = ("friendly", "concise", "expert")

# kind: (title, friendly, concise, expert); fields: {o} option, {p} package, {name}, {path}, {type}, {new},
# {first} (Nix's first line), {units}, {attr}, {flake}
TEXTS: dict[str, tuple[str, str, str, str]] = {
    "syntax-error": (
        "Syntax error",
        "Nix could not read the file: {first}. Look just before the marked spot for a missing `;`, `}}` or `]`, "
        "or a quote that was never closed.",
        "syntax error: {first}",
        "The parser rejected the file before evaluation started ({first}); the position is where parsing "
        "stopped, so the real mistake is usually just before it.",
    ),
    "undefined-variable": (
        "Unknown name `{name}`",
        "`{name}` is not defined here. If it is a package, write `pkgs.{name}` or put the list inside "
        "`with pkgs; [ … ]`; if it is `pkgs` or `lib`, add it to the `{{ config, pkgs, ... }}:` line at the top.",
        "undefined variable `{name}`",
        "`{name}` is not bound in any enclosing scope (function arguments, `let`, `rec`, `with`); packages come "
        "into scope only through `pkgs.` or `with pkgs;`, module arguments only when the module's function "
        "names them.",
    ),
    "missing-attribute": (
        "`{name}` does not exist",
        "There is no `{name}` here. If it is a package, its name may be spelled differently or it may have been "
        "renamed or removed; the suggestions below are the closest names.",
        "attribute `{name}` missing",
        "A select expression asked for `{name}` in an attribute set that has no such attribute (and no `or` "
        "default); for `pkgs.{name}` this means this nixpkgs revision has no package by that name.",
    ),
    "option-does-not-exist": (
        "Option {o} does not exist",
        "NixOS has no option {o}. It may be misspelled, renamed or removed, or it may belong to a module your "
        "system does not import.",
        "no such option {o}",
        "The module system found a definition for {o} that no imported module declares (lib/modules.nix, "
        "unmatched definitions while `_module.check` is on): a typo, an option renamed without an alias, or "
        "a declaring module missing from `imports`.",
    ),
    "option-type-mismatch": (
        "Wrong kind of value for {o}",
        "{o} needs a value of type {type}, but your setting gives something else (for example text where "
        "true/false or a list is expected).",
        "{o} is not of type {type}",
        "A definition of {o} failed the option type's `check` ({type}) when the definitions were merged "
        "(lib/modules.nix mergeDefinitions).",
    ),
    "option-used-but-not-defined": (
        "{o} has no value",
        "Something in your system needs {o}, but nothing sets it. Set it in your configuration.",
        "{o} used but not defined",
        "{o} has no default and no definition, and some module read its value during evaluation "
        "(lib/modules.nix mergeDefinitions: isDefined is false).",
    ),
    "conflicting-definitions": (
        "Conflicting values for {o}",
        "{o} is set to different values in different places, and NixOS cannot pick one. Keep one, or mark the "
        "one you want with `lib.mkForce`.",
        "conflicting definitions of {o}",
        "{o} has a type that cannot merge several different values (unique or equal-merge), and definitions of "
        "the same priority disagree; `mkForce`/`mkDefault` change the priority so that one wins.",
    ),
    "option-renamed": (
        "{o} was renamed",
        "{o} has a new name, `{new}`. It still works for now, but use the new name.",
        "{o} renamed to `{new}`",
        "mkRenamedOptionModule aliases {o} to `{new}` and adds a warning while the old name is defined; the "
        "alias is removed in a later release.",
    ),
    "option-removed": (
        "{o} was removed",
        "{o} no longer does anything in this NixOS release. Remove it (the message says what replaces it, if "
        "anything).",
        "{o} removed",
        "mkRemovedOptionModule declares {o} only to fail an assertion (or warn) when it is defined; its "
        "replacement instructions follow in Nix's message.",
    ),
    "unfree-package": (
        "{p} is not free software",
        "{p} has a licence that is not free, and NixOS refuses to build such packages until you allow them. "
        "Allow unfree packages, or remove it.",
        "{p} is unfree and not allowed",
        "check-meta refused {p}: its meta.license is unfree and neither nixpkgs.config.allowUnfree, "
        "allowUnfreePredicate nor NIXPKGS_ALLOW_UNFREE=1 admits it.",
    ),
    "broken-package": (
        "{p} is marked broken",
        "{p} is known not to build or work in this nixpkgs version. Remove it, use another version, or allow "
        "broken packages at your own risk.",
        "{p} is broken",
        "check-meta refused {p} because meta.broken is true for this platform; nixpkgs.config.allowBroken (or "
        "NIXPKGS_ALLOW_BROKEN=1) skips the check, not the failure.",
    ),
    "insecure-package": (
        "{p} is insecure",
        "{p} has known security problems, so NixOS refuses it. Use a newer version, or accept the risk for "
        "this exact version.",
        "{p} is insecure",
        "check-meta refused {p} because meta.knownVulnerabilities is not empty; "
        "nixpkgs.config.permittedInsecurePackages takes the exact name-version.",
    ),
    "unsupported-platform": (
        "{p} does not run on this machine",
        "{p} is not available for this machine's platform (for example it is x86_64-only and this is ARM). "
        "Remove it or pick an alternative.",
        "{p} unsupported on this platform",
        "check-meta refused {p}: the host platform is not in meta.platforms or is in meta.badPlatforms; "
        "nixpkgs.config.allowUnsupportedSystem skips the check.",
    ),
    "infinite-recursion": (
        "Infinite recursion",
        "A value depends on itself. In a configuration this usually means `config` is used to decide "
        "`imports`, or an option is set from its own value.",
        "infinite recursion",
        "Evaluation re-entered a thunk that was still being evaluated; in modules typically `config` read "
        "while the module structure (imports, the set of defined options) is still being computed.",
    ),
    "failed-assertion": (
        "A check failed",
        "A check in the configuration or in nixpkgs failed: {first}. The message says what it wants changed.",
        "assertion failed: {first}",
        "An `assert`, `abort` or NixOS `assertions` entry failed ({first}); NixOS collects failed assertions "
        "before building the system.",
    ),
    "import-not-found": (
        "File not found",
        "Nix cannot find {path}. Check the path in `imports` or `import`; relative paths start from the file "
        "that mentions them.",
        "not found: {path}",
        "Evaluation read the path literal {path} and the file is not there (paths are resolved relative to the "
        "file containing them, at evaluation time).",
    ),
    "type-error": (
        "Wrong type of value",
        "A value has the wrong type: {first}. For example text where a number or true/false is needed, or a "
        "function called with the wrong arguments.",
        "type error: {first}",
        "A builtin operation got a value of another type than it accepts ({first}).",
    ),
    "build-failed": (
        "Building {p} failed",
        "The build of {p} failed. The last lines of its log usually say why; if it is a package from nixpkgs, "
        "it may be broken in this version.",
        "build of {p} failed",
        "The builder of {p} exited with a failure status; dependents were not built. The full log is kept by "
        "Nix (`nix log`).",
    ),
    "hash-mismatch": (
        "Wrong hash for {p}",
        "A download did not match the hash written in the Nix file. Put the hash Nix got into the file (after "
        "checking you trust the source).",
        "hash mismatch in {p}",
        "A fixed-output fetch produced content whose hash differs from the declared outputHash; either the "
        "source changed upstream or the declared hash is a placeholder.",
    ),
    "file-collision": (
        "Two packages provide the same file",
        "Two packages you install contain a file with the same name, so they cannot both be in the system. "
        "Remove one, or give one priority.",
        "file collision between packages",
        "buildEnv (the system or user profile) found the same relative path in two packages of equal priority "
        "with different contents; `lib.hiPrio`/`lib.lowPrio` sets meta.priority.",
    ),
    "permission-denied": (
        "Permission denied",
        "Nix was not allowed to do this. Building or switching the system needs root: run it with sudo, or ask "
        "for your user to be trusted.",
        "permission denied",
        "The operation needs write access to the store, a profile lock or the daemon socket that this user "
        "lacks (or the daemon does not trust the user).",
    ),
    "flake-attr-missing": (
        "Not found in the flake",
        "The flake has no `{attr}`. Check the host name after `#` against `nixosConfigurations` in flake.nix.",
        "flake lacks `{attr}`",
        "Flake output lookup tried packages.<system>, legacyPackages.<system> and the bare path in {flake} and "
        "found none of them.",
    ),
    "flake-untracked-file": (
        "File not added to git",
        "Your configuration is a flake, and flakes only see files git knows about. `git add` the file (no "
        "commit needed).",
        "file not tracked by git",
        "A git flake is copied to the store from the git index, so files git does not track are missing from "
        "the copy Nix evaluates.",
    ),
    "activation-failed": (
        "Switching to the new system failed",
        "The new system was built, but starting it did not fully work{units}. Check the logs, or go back to the "
        "previous generation.",
        "activation failed{units}",
        "switch-to-configuration ran the activation script and restarted units, and reported failures{units}; "
        "the new generation is active but incomplete.",
    ),
    "out-of-space": (
        "Disk full",
        "The disk ran out of space. Delete old generations and collect garbage, then try again.",
        "no space left on device",
        "A write failed with ENOSPC (in the store, a build directory or /boot); garbage collection frees store "
        "paths no generation roots.",
    ),
    "network-failure": (
        "Download failed",
        "Nix could not download something it needs. Check the network connection (and any proxy), then try "
        "again.",
        "network failure",
        "A fetch (substituter, fetchurl or a flake input) failed at the transport level: name resolution, "
        "connection or timeout.",
    ),
    "unknown": ("Nix reported an error", "Nix said: {first}", "{first}", "Unrecognised message: {first}"),
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def words(kind: str, style: str, fields: dict[str, str]) -> tuple[str, str]:
    """(title, explanation) for a finding of `kind` in `style`."""
    if style not in STYLES:
        raise ValueError(f"unknown explanation style {style!r}; use one of {', '.join(STYLES)}")
    title, friendly, concise, expert = TEXTS[kind]
    text = {"friendly": friendly, "concise": concise, "expert": expert}[style]
    formatter = string.Formatter()
    values = _Blank(fields)
    return formatter.vformat(title, (), values), formatter.vformat(text, (), values)
