"""The server's state without the protocol: open documents, settings, and Nix's verdict from the last save.

The LSP layer calls these methods and converts what they return; tests and the CLI can use them directly.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import attrs

from .ide.diagnostics import document_problems
from .ide.syntax_errors import syntax_problems
from .ide.nix_parse import NixUnavailable, nix_parse_problem
from .ide.problem import Problem
from .language.memory import ChoiceMemory
from .settings import Settings, SettingsUpdate, read_settings
from .syntax.document import Change, Document, PositionEncoding
from .syntax.store import DocumentStore

if TYPE_CHECKING:
    from .ide.hover import Sources
    from .knowledge.packages import PackageIndex
    from .language.resolve import Knowledge
    from .nixpkgs.evaluated import OptionsEvaluation
    from .nixpkgs.locate import NixpkgsLocation
    from .nixpkgs.records import StaticIndex

log = logging.getLogger(__name__)


class Workspace:
    def __init__(self, memory: ChoiceMemory | None = None) -> None:
        self.documents = DocumentStore()
        self.settings = Settings()
        self.memory = memory if memory is not None else ChoiceMemory()
        self._nix_verdicts: dict[str, tuple[int | None, Problem | None]] = {}
        self._remembered: dict[str, str] | None = None
        self._rejections: dict[tuple[bytes, bytes], str | None] = {}
        self.nixpkgs: NixpkgsLocation | None = None
        self.static_index: StaticIndex | None = None
        self._sources: tuple[StaticIndex | None, Sources] | None = None
        self._request_packages: tuple[PackageIndex, PackageIndex] | None = None
        self._evaluation: OptionsEvaluation | None = None

    def knowledge(self) -> Knowledge:
        """What requests are resolved against: bundled knowledge, the user's aliases and past picks, and, once
        the user's nixpkgs is indexed, its packages for names the bundled list does not know."""
        from .knowledge.packages import PackageIndex
        from .language.resolve import bundled_knowledge  # loads on first request, not at start-up

        if self._remembered is None:
            self._remembered = self.memory.load()
        knowledge = bundled_knowledge(self.settings.aliases, self._remembered)
        if self.static_index is None:
            return knowledge
        everything = self.hover_sources().packages
        if self._request_packages is None or self._request_packages[0] is not everything:
            self._request_packages = (everything, PackageIndex(knowledge.packages.sources, fallback=everything))
        return attrs.evolve(knowledge, packages=self._request_packages[1])

    def load_nixpkgs(self, folders: Sequence[str], evaluated: Callable[[str, bool], None] | None = None) -> str:
        """Find the user's nixpkgs and index it (from the cache when it is there). Slow the first time: call
        it in a worker thread; until it returns, features use the bundled knowledge. Returns a sentence for
        the log saying what is in use.

        With `evaluated` and the `evaluation.enable` setting, the full options list of the user's system is
        then evaluated in the background (`nixpkgs.evaluated`); when it arrives, the index is swapped for the
        merged, complete one and `evaluated(sentence, True)` is called from that thread, or
        `evaluated(why, False)` when there is none (the static index stays)."""
        from .ide.option_checks import warm as warm_option_checks
        from .nixpkgs.cache import cached_index
        from .nixpkgs.locate import locate_nixpkgs

        self.stop_evaluation()
        location = locate_nixpkgs(
            folders, self.settings.nixpkgs_path, nix_instantiate=self.settings.nix_instantiate,
            timeout=self.settings.nix_timeout,
        )
        index = cached_index(location.path, location.revision) if location.path is not None else None
        self.nixpkgs, self.static_index = location, index
        if index is None:
            return location.explanation
        self.hover_sources().packages.names_starting("", 1)  # build the lookup tables here, not on a keystroke
        warm_option_checks(self.hover_sources())
        if evaluated is not None and self.settings.evaluation.enable:
            self._evaluate(location, folders, index, evaluated)
        return f"{location.explanation} Indexed {len(index.options)} options and {len(index.packages)} packages."

    def _evaluate(self, location: NixpkgsLocation, folders: Sequence[str], index: StaticIndex,
                  done: Callable[[str, bool], None]) -> None:
        from .nixpkgs.evaluated import EvaluationRequest, Outcome, OptionsEvaluation

        settings = self.settings
        job = OptionsEvaluation(EvaluationRequest(
            location, tuple(folders), index, settings.nix_instantiate, settings.evaluation.memory_limit,
            settings.evaluation.timeout, settings.nix_timeout,
            flake=settings.rebuild.flake, host=settings.rebuild.host,  # the system a rebuild builds
        ))

        def arrived(outcome: Outcome) -> None:
            if self._evaluation is job:
                self._evaluation = None  # done: let go of the static options it holds
            if outcome.skipped:
                log.info("nixpkgs: the options are not evaluated: %s", outcome.message)
            elif outcome.index is None:
                done(outcome.message, False)
            elif self.static_index is index:  # not replaced by a newer load meanwhile
                self.static_index = attrs.evolve(index, options=outcome.index)
                self.hover_sources()
                outcome.index.children(())  # build the lookup tables here, not on a keystroke
                done(outcome.message, True)

        self._evaluation = job
        job.start(arrived)

    def stop_evaluation(self) -> None:
        """Stop a running evaluation of the options (its processes are killed); nothing is reported."""
        if self._evaluation is not None:
            self._evaluation.cancel()
            self._evaluation = None

    def hover_sources(self) -> Sources:
        """What hover and completion draw on, built once per index (a full nixpkgs has 120,000 packages)."""
        from .ide.hover import Sources
        from .knowledge.packages import PackageIndex, bundled_index
        from .knowledge.vocabulary import bundled_vocabulary

        index = self.static_index
        if self._sources is not None and self._sources[0] is index:
            return self._sources[1]
        known = self._sources[0] if self._sources is not None else None
        if index is not None and known is not None and known.packages is index.packages:
            sources = attrs.evolve(self._sources[1], options=index.options)  # only the options changed (evaluated)
        elif index is None:
            sources = Sources(bundled_vocabulary(), bundled_index())
        else:
            packages = PackageIndex([index.packages, *bundled_index().sources])  # the user's nixpkgs first
            root = self.nixpkgs.path if self.nixpkgs is not None else None
            sources = Sources(bundled_vocabulary(), packages, index.options, root)
        self._sources = (index, sources)
        return sources

    def nix_rejection(self, old: bytes, new: bytes) -> str | None:
        """Nix's objection to a proposed text (see `ide.ask.nix_rejection`), remembered: editors ask for the
        same code actions again and again while the cursor rests on a line. Safe in a worker thread."""
        from .ide.ask import nix_rejection

        key = (hashlib.sha256(old).digest(), hashlib.sha256(new).digest())
        if key not in self._rejections:
            if len(self._rejections) >= 256:
                self._rejections.clear()
            self._rejections[key] = nix_rejection(old, new, self.settings.nix_instantiate, self.settings.nix_timeout)
        return self._rejections[key]

    def remember(self, picked: Iterable[tuple[str, str]]) -> None:
        for subject, key in picked:
            self.memory.remember(subject, key)
        self._remembered = None

    def configure(self, raw: object) -> SettingsUpdate:
        update = read_settings(raw, self.settings)
        self.settings = update.settings
        return update

    def open(self, uri: str, text: str, version: int | None) -> Document:
        self._nix_verdicts.pop(uri, None)
        return self.documents.open(uri, text, version)

    def change(
        self,
        uri: str,
        version: int | None,
        changes: Iterable[Change],
        encoding: PositionEncoding,
        check_version: bool = True,
    ) -> Document:
        self._nix_verdicts.pop(uri, None)  # Nix's position no longer matches the text
        document, _edits = self.documents.change(uri, version, changes, encoding, check_version)
        return document

    def close(self, uri: str) -> None:
        self._nix_verdicts.pop(uri, None)
        self.documents.close(uri)

    def problems(self, uri: str, rules: bool = True) -> list[Problem]:
        """The problems to show for `uri`; `rules=False` gives the syntax problems alone (see `document_problems`).
        Options and packages are checked only once the user's nixpkgs is indexed."""
        document = self.documents.get(uri)
        verdict = self._nix_verdicts.get(uri)
        nix_problem = verdict[1] if verdict is not None and verdict[0] == document.version else None
        sources = self.hover_sources() if self.static_index is not None else None
        return document_problems(document, nix_problem, self.settings.diagnostics.max_problems, rules, sources,
                                 self.settings.explanation_style.value)

    def wants_nix_check(self, uri: str) -> bool:
        """Only worth running when enabled and tree-sitter found nothing (Nix reports one error at most)."""
        if not self.settings.diagnostics.nix_parse_on_save or uri not in self.documents:
            return False
        return not syntax_problems(self.documents.get(uri), 1)  # harmless MISSING nodes (`inherit;`) do not count

    def nix_check(self, uri: str, version: int | None, source: bytes) -> bool:
        """Run `nix-instantiate --parse` on a snapshot (safe in a worker thread). True when the verdict is
        recorded for `version`; False when Nix could not be asked (logged)."""
        try:
            problem = nix_parse_problem(source, self.settings.nix_instantiate, self.settings.nix_timeout, _directory(uri))
        except NixUnavailable as error:
            log.info("no second opinion from Nix: %s", error)
            return False
        self._nix_verdicts[uri] = (version, problem)
        return True


def _directory(uri: str) -> str | None:
    """The folder of a `file:` URI, so that Nix resolves relative paths as it would for the file itself."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return os.path.dirname(unquote(parsed.path)) or None
