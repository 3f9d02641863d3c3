"""The words people use for services, programs and hardware, mapped to current NixOS options
(`data/vocabulary.json`, written by us and checked against nixpkgs), plus renamed and removed options."""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

import attrs

from ..edits.values import nix_value


@attrs.frozen
class Setting:
    """One option assignment: set `path` to the Nix text `value`, or add the Nix texts `add` to its list."""

    path: tuple[str, ...]
    value: str | None = None
    add: tuple[str, ...] = ()


@attrs.frozen
class Feature:
    id: str
    words: tuple[str, ...]
    title: str
    kind: str
    enable: tuple[Setting, ...]
    disable: tuple[Setting, ...]
    default_on: bool = False  # on in NixOS without any line saying so (the firewall): "off" must be written
    summary: str = ""
    note: str = ""
    package: str | None = None
    prefer_package: bool = False  # "install X": offer the package first, the module second
    unfree: bool = False
    groups: tuple[str, ...] = ()


@attrs.frozen
class Removed:
    words: tuple[str, ...]
    old: str
    advice: str
    package: str | None = None


@attrs.frozen
class FeatureMatch:
    feature: Feature
    how: str  # exact, words, close
    score: float


MIN_FUZZY_LENGTH = 4
NOISE = ("server", "service", "daemon", "support", "program", "application", "app", "module", "the")


def split_path(text: str) -> tuple[str, ...]:
    """`services.nginx.virtualHosts."a.b"` → ("services", "nginx", "virtualHosts", "a.b")."""
    return tuple(part.strip('"') for part in re.findall(r'"[^"]*"|[^.]+', text))


def _settings(raw: Mapping[str, Any]) -> tuple[Setting, ...]:
    found = []
    for path, value in raw.items():
        if isinstance(value, dict) and "add" in value:
            found.append(Setting(split_path(path), add=tuple(nix_value(v) for v in value["add"])))
        elif isinstance(value, dict) and "add_nix" in value:
            found.append(Setting(split_path(path), add=tuple(value["add_nix"])))
        else:
            found.append(Setting(split_path(path), nix_value(value)))
    return tuple(found)


def _feature(raw: Mapping[str, Any]) -> Feature:
    enable = _settings(raw["enable"])
    if "disable" in raw:
        disable = _settings(raw["disable"])
    else:
        disable = (Setting(enable[0].path, "false"),)
    return Feature(
        id=raw["id"],
        words=tuple(w.lower() for w in raw["words"]),
        title=raw["title"],
        kind=raw.get("kind", "service"),
        enable=enable,
        disable=disable,
        default_on=bool(raw.get("default_on", False)),
        summary=raw.get("summary", ""),
        note=raw.get("note", ""),
        package=raw.get("package"),
        prefer_package=raw.get("prefer") == "package",
        unfree=bool(raw.get("unfree", False)),
        groups=tuple(raw.get("groups", ())),
    )


def _strip_noise(phrase: str) -> str:
    return " ".join(w for w in phrase.split() if w not in NOISE)


class Vocabulary:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.features = tuple(_feature(entry) for entry in data.get("entries", ()))
        self.removed = tuple(
            Removed(tuple(r.get("words", ())), r["old"], r.get("advice", ""), r.get("package"))
            for r in data.get("removed", ())
        )
        self.renamed = {r["old"]: r["new"] for r in data.get("renamed", ())}
        self._by_word: dict[str, Feature] = {}
        self._by_loose: dict[str, list[Feature]] = {}
        for feature in self.features:
            for word in (*feature.words, feature.id):
                self._by_word.setdefault(word, feature)
                self._by_loose.setdefault(_strip_noise(word), []).append(feature)

    def get(self, feature_id: str) -> Feature | None:
        return next((f for f in self.features if f.id == feature_id), None)

    def find(self, phrase: str, limit: int = 5) -> list[FeatureMatch]:
        """Features a phrase may name, best first: the exact phrase; the phrase without filler words such
        as "server" or "daemon"; the part before "to"/"for" ("cups to print documents"); close spellings."""
        phrase = " ".join(phrase.lower().split())
        if phrase in self._by_word:
            return [FeatureMatch(self._by_word[phrase], "exact", 1.0)]
        for candidate in (phrase, re.split(r"\s(?:to|for|so|with|on)\s", phrase)[0]):
            loose = self._by_loose.get(_strip_noise(candidate), [])
            if loose:
                unique = list(dict.fromkeys(loose))
                return [FeatureMatch(f, "words", 0.95) for f in unique[:limit]]
        if len(phrase) < MIN_FUZZY_LENGTH:
            return []  # "it" or "fd" is close to too many words to mean any of them
        close = difflib.get_close_matches(phrase, list(self._by_word), n=limit * 2, cutoff=0.8)
        found: dict[str, FeatureMatch] = {}
        for word in close:
            feature = self._by_word[word]
            score = round(difflib.SequenceMatcher(a=phrase, b=word).ratio(), 3)
            if feature.id not in found or found[feature.id].score < score:
                found[feature.id] = FeatureMatch(feature, "close", score)
        return sorted(found.values(), key=lambda m: -m.score)[:limit]

    def find_removed(self, phrase: str) -> Removed | None:
        phrase = " ".join(phrase.lower().split())
        return next((r for r in self.removed if phrase in r.words or _strip_noise(phrase) in r.words), None)

    def all_words(self) -> list[str]:
        return sorted(self._by_word)

    def option_paths(self) -> list[str]:
        """Every option path the vocabulary sets (switching features on or off) or renames to, dotted."""
        paths = {".".join(s.path) for f in self.features for s in (*f.enable, *f.disable)}
        paths.update(self.renamed.values())
        return sorted(paths)


@functools.cache
def bundled_vocabulary() -> Vocabulary:
    text = (resources.files("nix_humanity_ls.knowledge") / "data" / "vocabulary.json").read_text("utf-8")
    return Vocabulary(json.loads(text))
