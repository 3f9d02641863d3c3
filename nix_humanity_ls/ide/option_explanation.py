"""What an option means, in the user's explanation style: the text hover shows, completion's `resolve` adds and
`nix-humanity explain-option` prints.

- friendly: our one-sentence explanation, nixpkgs' description, the type and default said in sentences, and an
  example of use written as a line of configuration;
- concise: one line, with the type;
- expert: the type, default, example and declaring module (file:line, how it is declared) as facts, then the
  description.

Facts come from the user's indexed nixpkgs; without it, from our vocabulary (a sentence and the lines that
switch a feature on). A name inside an option's freeform set (`services.openssh.settings.X11Forwarding`, when
no option of that name is declared) is explained as such, with the text of the option it sits in. An unknown
path gets the closest known option paths as suggestions.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

import attrs

from ..edits.options import render_path
from ..knowledge.vocabulary import Feature, Setting, Vocabulary, split_path
from ..nixpkgs.records import ANY_ELEMENT, ANY_NAME, OptionDecl
from .option_types import describe, parse_type
from .value_completion import values_of_type

if TYPE_CHECKING:
    from .hover import Sources

MAX_SUGGESTIONS = 5


@attrs.frozen
class OptionExplanation:
    path: tuple[str, ...]
    kind: str  # option, group, renamed, removed, freeform (a name inside a freeform option: that option's
    # declaration, type and default), vocabulary (known only to our vocabulary), unknown
    markdown: str  # empty when unknown
    declaration: tuple[Path | str, int] | None = None  # file (absolute when the nixpkgs root is known), line
    type: str | None = None
    default: str | None = None
    suggestions: tuple[str, ...] = ()


def explain_option(path: Sequence[str], sources: Sources, style: str = "friendly") -> OptionExplanation:
    """The explanation of an option path (concrete or with `<name>`), or suggestions when it is unknown."""
    path = tuple(path)
    options = sources.options
    if options is not None:
        rename = options.rename_for(path)
        if rename is not None:
            kind = "removed" if rename.new_path is None else "renamed"
            return OptionExplanation(path, kind, option_text(path, sources, style))
        declared = options.find(path)
        if declared is not None:
            root = sources.nixpkgs_root
            file: Path | str = root / declared.file if root is not None else declared.file
            return OptionExplanation(path, "option", option_text(path, sources, style), (file, declared.line),
                                     declared.type or None, declared.default)
        if options.children(path):
            return OptionExplanation(path, "group", option_text(path, sources, style))
        above = freeform_above(path, sources)
        if above is not None:
            root = sources.nixpkgs_root
            file = root / above.file if root is not None else above.file
            return OptionExplanation(path, "freeform", option_text(path, sources, style), (file, above.line),
                                     above.type or None, above.default)
    text = option_text(path, sources, style)
    if text:
        return OptionExplanation(path, "vocabulary", text)
    return OptionExplanation(path, "unknown", "", suggestions=tuple(suggest_options(path, sources)))


def option_text(path: tuple[str, ...], sources: Sources, style: str) -> str:
    """Markdown for hover and completion; empty when nothing is known about `path`."""
    dotted = ".".join(path)
    feature = _feature(path, sources.vocabulary)
    in_short = feature.summary if feature is not None else ""
    options = sources.options
    if options is not None:
        rename = options.rename_for(path)
        if rename is not None:
            old = ".".join(rename.rename.old)
            if rename.new_path is not None:
                new = ".".join(rename.new_path)
                return f"**{dotted}** is an old name: `{old}` became `{new}`. Use the new name."
            return f"**{dotted}** no longer exists in NixOS. {rename.rename.message.strip()}"
        declared = options.find(path)
        if declared is not None:
            return _declared_text(path, declared, in_short, sources.nixpkgs_root, style)
        children = options.children(path)
        if children:
            lead = f"**{dotted}** — {in_short}" if in_short else f"**{dotted}**"
            if style == "concise":
                return f"{lead} · a group of {len(children)} settings"
            names = ", ".join(f"`{c.name}`" for c in children[:12]) + (" …" if len(children) > 12 else "")
            return f"{lead}\n\nA group of {len(children)} settings: {names}"
        above = freeform_above(path, sources)
        if above is not None:
            return _freeform_text(path, above, sources, style)
    if not in_short or feature is None:
        return ""
    lead = f"**{dotted}** — {in_short}"
    if style == "concise":
        return lead
    switch_on = "\n".join(_setting_line(s) for s in feature.enable)
    if style == "friendly":
        return f"{lead}\n\nTo switch it on, write:\n\n```nix\n{switch_on}\n```"
    return (f"{lead}\n\n```nix\n{switch_on}\n```\n\n"
            "_Type, default and declaration are read from your nixpkgs once it is found and indexed._")


def _feature(path: tuple[str, ...], vocabulary: Vocabulary) -> Feature | None:
    """The vocabulary entry whose first setting is this option (or sits directly in this set)."""
    for feature in vocabulary.features:
        first = feature.enable[0].path
        if first == path or (len(first) > 1 and first[:-1] == path and first[-1] == "enable"):
            return feature
    return None


def freeform_above(path: tuple[str, ...], sources: Sources) -> OptionDecl | None:
    """The freeform option `path` is a name inside of (not the option itself), when no option is declared at
    `path`: any name may be set there."""
    above = sources.options.option_above(path) if sources.options is not None else None
    return above if above is not None and above.freeform and len(above.path) < len(path) else None


def _freeform_text(path: tuple[str, ...], above: OptionDecl, sources: Sources, style: str) -> str:
    dotted, container = ".".join(path), above.name
    if style == "concise":
        return f"**{dotted}** — a name of your own in `{container}`, which accepts any name"
    if style == "expert":
        lead = f"**{dotted}** — free-form: `{container}` accepts any name" + (f" (`{above.type}`)" if above.type else "")
    else:
        lead = (f"**{dotted}** — a name of your own inside `{container}`. That option is free-form: it accepts "
                "any name here, so NixOS does not check this one against a list of options; what it means is up to "
                "the program or module that reads it (check the spelling against its documentation).")
    return f"{lead}\n\n{option_text(above.path, sources, style)}"


def _setting_line(setting: Setting) -> str:
    value = setting.value if setting.value is not None else "[ " + " ".join(setting.add) + " ]"
    return f"{render_path(setting.path)} = {value};"


def _declared_text(path: tuple[str, ...], option: OptionDecl, in_short: str, root: Path | None, style: str) -> str:
    dotted = ".".join(path)
    where = f"{option.file}:{option.line}"
    link = f"[{where}]({(root / option.file).as_uri()}#L{option.line})" if root is not None else f"`{where}`"
    description = option.description.strip()
    if style == "concise":
        first = in_short or _first_sentence(description)
        line = f"**{dotted}**" + (f" — {first}" if first else "")
        return line + (f" · `{option.type}`" if option.type else "")
    if style == "expert":
        head = f"**{dotted}**" + (f" `{option.type}`" if option.type else "")
        facts = [_fact("default", option.default) if option.default else "- no default",
                 _fact("example", option.example) if option.example else "",
                 f"- declared by `{option.kind}` in {link}",
                 *(f"- also declared in `{f}:{n}`" for f, n in option.also_declared),
                 "- read-only" if option.read_only else "", "- internal: not meant to be set" if option.internal else ""]
        return "\n\n".join(p for p in (head, "\n".join(f for f in facts if f), description) if p)
    parts = [f"**{dotted}** — {in_short}" if in_short else f"**{dotted}**"]
    if description:
        parts.append(description)
    parts.append(_facts_in_words(option))
    usage = _usage(path, option)
    if usage:
        parts.append(f"For example:\n\n```nix\n{usage}\n```")
    parts.append(f"Declared in {link}.")
    return "\n\n".join(p for p in parts if p)


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s|\n", text, maxsplit=1)[0].strip()


def _fact(label: str, text: str) -> str:
    """`- default: `x``, or for several lines a list item whose code block follows, indented."""
    text = text.strip()
    if "\n" not in text and "`" not in text:
        return f"- {label}: `{text}`"
    return f"- {label}:\n\n" + "\n".join(f"  {line}" for line in ["```nix", *text.split("\n"), "```"])


def _facts_in_words(option: OptionDecl) -> str:
    if option.read_only:
        return "It is read-only: NixOS sets it, your configuration reads it."
    sentences = []
    if option.type:
        words = type_words(option.type)
        sentences.append(f"It takes {words} (`{option.type}`)." if words else f"Its type is `{option.type}`.")
    if option.default is not None:
        default = option.default.strip()
        sentences.append(f"When you leave it out, it is `{default}`." if "\n" not in default
                         else f"When you leave it out, it is:\n\n```nix\n{default}\n```")
    return " ".join(sentences)


def _usage(path: tuple[str, ...], option: OptionDecl) -> str | None:
    """A line of configuration that sets the option: its example, else a value its type names, else its default."""
    if ANY_ELEMENT in path:
        return None  # inside a list of sets: there is no path to write it under
    value = option.example.strip() if option.example else None
    if value is not None and option.kind == "mkPackageOption" and not value.startswith(("pkgs.", "(")):
        value = f"pkgs.{value}"
    if value is None:
        named = [v.nix for v in values_of_type(option.type) if v.nix != "null"]
        default = (option.default or "").strip()
        value = next((v for v in named if v != default), None) or (
            default if default and default != "null" and "\n" not in default else None)
    if value is None:
        return None
    concrete = tuple("example" if segment == ANY_NAME else segment for segment in path)
    return f"{render_path(concrete)} = {value};"


def type_words(type_text: str) -> str | None:
    """`types.listOf types.port` → "a list of port numbers from 0 to 65535"; None when the type is not one of
    `lib.types` we can read."""
    parsed = parse_type(type_text)
    return describe(parsed) if parsed is not None and parsed.kind not in ("anything", "unknown") else None


# -- suggestions --------------------------------------------------------------------------------------------


def suggest_options(path: Sequence[str], sources: Sources, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Known option paths close to `path`. The first segment that leads nowhere is compared with what exists
    at that place (`services.opensh.enable` → `openssh`, kept when the rest of the path then exists); only when
    that finds nothing are whole paths compared (those with the same first segment, so that twenty thousand
    names are not all compared)."""
    path = tuple(path)
    options = sources.options
    if options is not None:
        def children(prefix: tuple[str, ...]) -> list[str]:
            return [c.name for c in options.children(prefix)]

        def exists(candidate: tuple[str, ...]) -> bool:
            return options.find(candidate) is not None or bool(options.children(candidate))

        names = [o.name for o in options.options() if not o.internal]
    else:
        names = sources.vocabulary.option_paths()
        known = [split_path(name) for name in names]

        def children(prefix: tuple[str, ...]) -> list[str]:
            return sorted({p[len(prefix)] for p in known if len(p) > len(prefix) and p[: len(prefix)] == prefix})

        def exists(candidate: tuple[str, ...]) -> bool:
            return any(p[: len(candidate)] == candidate for p in known)

    found: list[str] = []
    for length in range(len(path) - 1, -1, -1):
        here = [name for name in children(path[:length]) if name not in (ANY_NAME, ANY_ELEMENT)]
        if here:
            for name in difflib.get_close_matches(path[length], here, n=limit, cutoff=0.6):
                candidate = path[:length] + (name,) + path[length + 1 :]
                if exists(candidate):
                    found.append(".".join(candidate))
            break
    if not found:
        dotted = ".".join(path)
        same_start = [n for n in names if n.split(".", 1)[0] == path[0]] or names
        found = [n for n in difflib.get_close_matches(dotted, same_start, n=limit, cutoff=0.8) if n != dotted]
    return found[:limit]


def terminal_text(markdown: str) -> str:
    """The Markdown of an explanation as a terminal shows it: no emphasis marks, code blocks indented, and a
    link to a declaration as `/path/to/file.nix:LINE`, which terminals and editors open."""
    lines, in_code = [], False
    for line in markdown.split("\n"):
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            lines.append("    " + line)
            continue
        line = re.sub(r"\[[^\]]*\]\(file://([^)#]*)#L(\d+)\)", lambda m: f"{unquote(m.group(1))}:{m.group(2)}", line)
        line = re.sub(r"\*\*(.+?)\*\*", r"\1", line)
        line = re.sub(r"(?<![\w*])[*_]([^*_\n]+?)[*_](?![\w*])", r"\1", line)
        lines.append(line)
    return "\n".join(lines)
