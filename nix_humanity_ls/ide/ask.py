"""The "ask" feature: a plain-words request against a document → a proposed new text, or candidates to
pick from, or a clear "not understood". Used alike by the code actions, the `nixHumanity.ask` command and
`nix-humanity ask`; nothing here writes files or speaks LSP."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import attrs

from ..edits.options import EditError, module_set
from ..edits.plan import AllowUnfree, Operation, apply_operations
from ..edits.text_edit import TextEdit, minimal_edits
from ..language.requests import Action, parse_request
from ..language.resolve import Choice, Knowledge, Resolution, resolve
from ..syntax.document import Document, decode
from .nix_parse import NixUnavailable, nix_syntax_problem
from ..syntax.query import bindings

EXAMPLES = "install firefox, enable ssh, open port 8080, set the time zone to Europe/Berlin, add user alice"


@attrs.frozen
class Candidate:
    title: str
    summary: str


@attrs.frozen
class AskResult:
    """`status` is one of proposed, noop, ambiguous, not_understood, error. `new` is the proposed text."""

    status: str
    summary: str
    old: bytes = b""
    new: bytes | None = None
    candidates: tuple[Candidate, ...] = ()
    picked: tuple[tuple[str, str], ...] = ()  # (subject, choice key) for choices the user picked
    choices: tuple[Choice, ...] = ()  # what was applied (or offered, when ambiguous)
    options: int = 0  # >1 when a request had a recommended choice and alternatives (`pick` selects them)

    def edits(self) -> list[TextEdit]:
        return minimal_edits(self.old, self.new) if self.new is not None else []

    def diff(self, name: str) -> str:
        if self.new is None or self.new == self.old:
            return ""
        return "".join(
            difflib.unified_diff(
                decode(self.old).splitlines(keepends=True),
                decode(self.new).splitlines(keepends=True),
                fromfile=f"a/{name}",
                tofile=f"b/{name}",
            )
        )


def ask(doc: Document, request: str, knowledge: Knowledge, pick: int | None = None) -> AskResult:
    """Understand `request` and compute the change to `doc`. `pick` (1-based) chooses among candidates."""
    intents = parse_request(request)
    if not intents:
        if not request.strip():
            return AskResult("not_understood", f"the request is empty; try for example: {EXAMPLES}", doc.source)
        return AskResult("not_understood", f"not understood: “{request.strip()}”. Try for example: {EXAMPLES}", doc.source)
    try:
        module_set(doc)  # a file with syntax errors gets no edit, whatever was asked
    except EditError as error:
        return AskResult("error", str(error), doc.source)
    resolutions = [resolve(intent, knowledge) for intent in intents]
    try:
        resolutions = [_what_the_file_has(doc, r) if r.problem is None else r for r in resolutions]
    except EditError as error:
        return AskResult("error", str(error), doc.source)
    problems = [r for r in resolutions if r.problem is not None]
    if any(r.refused for r in problems):
        return AskResult("error", "; ".join(r.problem for r in problems if r.refused), doc.source)  # type: ignore[misc]
    if problems:
        return AskResult("not_understood", "; ".join(_problem_text(r) for r in problems), doc.source)
    chosen: list[Choice] = []
    picked: list[tuple[str, str]] = []
    options = 0
    for resolution in resolutions:
        many = len(resolution.choices) > 1
        if pick is not None and not picked and (many or not resolution.certain):
            if not 1 <= pick <= len(resolution.choices):
                return AskResult("error", f"--pick {pick} is not one of the {len(resolution.choices)} candidates", doc.source)
            choice = resolution.choices[pick - 1]
            chosen.append(choice)
            picked.append((resolution.intent.topic, choice.key))
            continue
        if not resolution.certain:
            return _ambiguous(doc, resolution)
        chosen.append(resolution.choices[0])
        if many and not options:
            options = len(resolution.choices)
    try:
        return attrs.evolve(_apply(doc, chosen, tuple(picked)), options=options)
    except EditError as error:
        return AskResult("error", str(error), doc.source)


def _problem_text(resolution: Resolution) -> str:
    text = resolution.problem or "not understood"
    if resolution.suggestions:
        text += "; did you mean " + ", ".join(f"“{s}”" for s in resolution.suggestions) + "?"
    return text


def _ambiguous(doc: Document, resolution: Resolution) -> AskResult:
    candidates = tuple(Candidate(c.title, c.summary) for c in resolution.choices)
    subject = resolution.intent.value if resolution.intent.action is Action.SET else resolution.intent.subject
    if len(candidates) == 1:
        message = f"“{subject}” is not a name I know exactly; did you mean this?"
    else:
        message = f"“{subject}” could mean {len(candidates)} things; pick one"
    return AskResult(
        "ambiguous",
        message,
        doc.source,
        candidates=candidates,
        choices=resolution.choices,
    )


def _user_defined(doc: Document, user: str) -> bool:
    """Does the module define `users.users.<user>` (in any spelling)?"""
    prefix = ("users", "users", user)
    return any(b.path[:3] == prefix for b in bindings(module_set(doc)))


def _what_the_file_has(doc: Document, resolution: Resolution) -> Resolution:
    """For removing and switching off: keep the choices that would change this file. "uninstall steam" then
    means the module when the file enables it, and "remove networkmanager" does not offer packages the file
    never installed. When none would change anything, the request is simply already done."""
    if resolution.intent.action not in (Action.REMOVE, Action.DISABLE) or len(resolution.choices) < 2:
        return resolution
    effective = []
    for choice in resolution.choices:
        try:
            if apply_operations(doc, choice.operations).changed:
                effective.append(choice)
        except EditError:
            effective.append(choice)  # let the real attempt explain the problem
    if not effective:
        return attrs.evolve(resolution, choices=resolution.choices[:1], certain=True)
    return attrs.evolve(resolution, choices=tuple(effective), certain=resolution.certain or len(effective) == 1)


def _apply(doc: Document, chosen: Sequence[Choice], picked: tuple[tuple[str, str], ...]) -> AskResult:
    created = {c.key.split(":", 1)[1] for c in chosen if c.key.startswith("user:")}
    for choice in chosen:
        if choice.user is not None and choice.user not in created and not _user_defined(doc, choice.user):
            raise EditError(
                f"there is no user `{choice.user}` in this file; add the user first (say: add user {choice.user})"
            )
    operations: list[Operation] = [op for choice in chosen for op in choice.operations]
    notes = [note for choice in chosen for note in choice.notes]
    unfree = [c.key.split(":", 1)[1] for c in chosen if c.unfree]
    allow = AllowUnfree(tuple(unfree))
    if unfree:
        operations.append(allow)
    applied = apply_operations(doc, operations)
    if allow in applied.changed:
        notes.append(f"also lets unfree software in (nixpkgs.config), because {', '.join(unfree)} is unfree")
    done = [c for c in chosen if any(op in applied.changed for op in c.operations)]
    already = [c for c in chosen if c not in done]
    parts = [c.title for c in done]
    parts += [f"already done: {c.title}" for c in already]
    summary = "; ".join(parts + notes)
    if not applied.changed:
        return AskResult("noop", f"nothing to change: {'; '.join(c.title for c in chosen)} is already so", doc.source,
                         picked=picked, choices=tuple(chosen))
    return AskResult("proposed", summary, doc.source, applied.source, picked=picked, choices=tuple(chosen))


def nix_rejection(old: bytes, new: bytes, nix_instantiate: str = "nix-instantiate", timeout: float = 10.0) -> str | None:
    """Nix's own parser's objection to the proposed text `new`, if it has one the original text `old` did
    not have; None when Nix accepts it or is not installed (tree-sitter has already checked the syntax).
    The question is "does the result still parse": undefined variables are not objections here (a file
    with two gets a fix for each), so Nix is asked through `nix_syntax_problem`."""
    try:
        after = nix_syntax_problem(new, nix_instantiate, timeout)
        if after is None:
            return None
        before = nix_syntax_problem(old, nix_instantiate, timeout)
    except NixUnavailable:
        return None
    if before is not None and before.message == after.message:
        return None
    return after.message
