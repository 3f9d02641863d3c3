"""From an intent ("install", "python") to ranked, concrete choices, each a list of edit operations with a
title in plain words. A choice is only taken without asking when the words named it exactly; a typo or an
ambiguous word gives candidates, and words we do not know give the closest things we do know."""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Mapping, Sequence

import attrs

from ..edits.plan import AddPackages, AddToList, Operation, RemoveFromList, RemovePackages, SetOption
from ..edits.values import nix_string
from ..knowledge.packages import Package, PackageIndex, PackageMatch, bundled_index
from ..knowledge.vocabulary import Feature, FeatureMatch, Setting, Vocabulary, bundled_vocabulary
from ..nixpkgs.literals import one_line
from .requests import Action, Intent

ZONEINFO = "/usr/share/zoneinfo"


@attrs.frozen
class Choice:
    key: str  # stable identity, remembered when the user picks it: "package:python312", "feature:ssh"
    title: str  # "Install firefox (environment.systemPackages)"
    summary: str  # one line about what it is
    operations: tuple[Operation, ...]
    unfree: bool = False
    notes: tuple[str, ...] = ()
    user: str | None = None  # the user account the choice changes, which the file must define


@attrs.frozen
class Resolution:
    intent: Intent
    choices: tuple[Choice, ...] = ()
    certain: bool = False  # the first choice may be applied without asking
    problem: str | None = None  # why nothing could be chosen
    refused: bool = False  # the words were understood, but what they ask for cannot be done (`problem` says why)
    suggestions: tuple[str, ...] = ()  # what we do understand that is close


@attrs.frozen
class Knowledge:
    packages: PackageIndex
    vocabulary: Vocabulary
    aliases: Mapping[str, str] = attrs.Factory(dict)  # user's words → package or feature words
    remembered: Mapping[str, str] = attrs.Factory(dict)  # subject → choice key picked before


def bundled_knowledge(aliases: Mapping[str, str] | None = None, remembered: Mapping[str, str] | None = None) -> Knowledge:
    """The knowledge that ships with nix-humanity-ls, with the user's aliases and remembered picks."""
    return Knowledge(bundled_index(), bundled_vocabulary(), dict(aliases or {}), dict(remembered or {}))


def resolve(intent: Intent, knowledge: Knowledge) -> Resolution:
    subject = knowledge.aliases.get(intent.subject, intent.subject)
    if subject != intent.subject:
        intent = attrs.evolve(intent, subject=subject)
    resolver = _RESOLVERS[intent.action]
    resolution = resolver(intent, knowledge)
    return _remembered_first(resolution, knowledge.remembered.get(intent.topic))


def _remembered_first(resolution: Resolution, key: str | None) -> Resolution:
    if key is None or not resolution.choices:
        return resolution
    ranked = sorted(resolution.choices, key=lambda c: c.key != key)
    return attrs.evolve(resolution, choices=tuple(ranked))


# -- packages and features ------------------------------------------------------------------------------


def install_choice(package: Package) -> Choice:
    return Choice(
        f"package:{package.attr}",
        f"Install {package.attr} (environment.systemPackages)",
        f"{package.attr}: {package.description}" if package.description else package.attr,
        (AddPackages((package.attr,)),),
        unfree=package.unfree,
    )


def feature_choice(feature: Feature, enable: bool = True) -> Choice:
    """Switching a feature on sets its main option and adds companion settings the file does not set yet
    (a user's own `nix.gc.dates` stays). Switching off touches only what the file sets, except for what
    NixOS turns on by default (the firewall), where "off" has to be written."""
    settings = feature.enable if enable else feature.disable
    first = ".".join(settings[0].path)
    verb = "Enable" if enable else "Disable"
    notes = []
    if enable and feature.groups:
        notes.append(f"users need to be in the {', '.join(feature.groups)} group to use it")
    if enable and feature.note:
        notes.append(feature.note)
    if enable and feature.default_on:  # on unless the file says otherwise: only a written "off" changes
        operations = tuple(_setting_operation(s, only_existing=True) for s in settings)
    elif enable:
        operations = tuple(_setting_operation(s, companion=index > 0) for index, s in enumerate(settings))
    else:
        operations = tuple(_setting_operation(s, only_existing=not feature.default_on) for s in settings)
    return Choice(
        f"feature:{feature.id}" if enable else f"feature-off:{feature.id}",
        f"{verb} {feature.title} ({first})",
        feature.summary or feature.title,
        operations,
        unfree=enable and feature.unfree,
        notes=tuple(notes),
    )


def _setting_operation(setting: Setting, only_existing: bool = False, companion: bool = False) -> Operation:
    if setting.add:
        return RemoveFromList(setting.path, setting.add) if only_existing else AddToList(setting.path, setting.add)
    assert setting.value is not None
    return SetOption(setting.path, setting.value, only_existing, companion)


def _resolve_install(intent: Intent, knowledge: Knowledge) -> Resolution:
    packages = knowledge.packages.find(intent.subject)
    features = knowledge.vocabulary.find(intent.subject)
    exact_package = packages[0] if packages and packages[0].how == "exact" else None
    exact_feature = features[0] if features and features[0].how in ("exact", "words") else None
    if exact_feature is not None and exact_feature.feature.package is not None:
        module = feature_choice(exact_feature.feature)
        package = knowledge.packages.get(exact_feature.feature.package) or Package(exact_feature.feature.package)
        ordered = (install_choice(package), module) if exact_feature.feature.prefer_package else (module, install_choice(package))
        return Resolution(intent, ordered, certain=True)
    if exact_package is not None:
        return Resolution(intent, (install_choice(exact_package.package),), certain=True)
    if exact_feature is not None:
        return Resolution(intent, (feature_choice(exact_feature.feature),), certain=True)
    old_name = _old_package_name(intent, knowledge)
    if old_name is not None:
        return old_name
    removed = knowledge.vocabulary.find_removed(intent.subject)
    if removed is not None and removed.package and knowledge.packages.get(removed.package):
        choice = install_choice(knowledge.packages.get(removed.package))  # type: ignore[arg-type]
        return Resolution(intent, (attrs.evolve(choice, notes=(removed.advice,)),), certain=True)
    return _from_matches(intent, packages, features, knowledge)


def _old_package_name(intent: Intent, knowledge: Knowledge) -> Resolution | None:
    """An old package name of the user's nixpkgs (`aliases.nix`): its new name is installed, and the summary
    says so; a name nixpkgs removed (it throws) is refused with nixpkgs' own message. None for any other word."""
    from ..ide.package_alias import package_alias  # the user's nixpkgs is read only for words we lack

    alias = package_alias(knowledge.packages, intent.subject, fallback=True)
    if alias is None:
        return None
    message = one_line(alias.message)
    if alias.kind == "throw":
        instead = f"; install `{alias.new}` instead" if alias.new else ""
        said = f": {message}" if message else ""
        return Resolution(intent, problem=f"`{alias.name}` is no longer in your nixpkgs{said}{instead}", refused=True)
    package = knowledge.packages.get(alias.new) if alias.new else None
    if package is None:
        return None
    note = f"`{alias.name}` is an old name for `{package.attr}` in your nixpkgs; added {package.attr}"
    return Resolution(intent, (attrs.evolve(install_choice(package), notes=(note,)),), certain=True)


def _from_matches(
    intent: Intent, packages: Sequence[PackageMatch], features: Sequence[FeatureMatch], knowledge: Knowledge
) -> Resolution:
    """Aliases, spelling variants and typos: one variant of the same name is safe to take; anything else is
    offered as candidates, best first."""
    ranked = sorted(
        [(m.score, install_choice(m.package)) for m in packages]
        + [(m.score, feature_choice(m.feature)) for m in features],
        key=lambda pair: -pair[0],
    )
    choices = tuple(dict((c.key, c) for _, c in ranked).values())
    if not choices:
        return _not_understood(intent, knowledge)
    # one alias or spelling of a package name is safe to take, unless a feature has that very name
    # too; a feature that is merely spelled alike ("teams" ~ "steam") does not count
    single_variant = (
        len(packages) == 1
        and packages[0].how in ("alias", "variant")
        and not any(f.how in ("exact", "words") for f in features)
    )
    if single_variant:
        choices = (install_choice(packages[0].package),)
    return Resolution(intent, choices, certain=single_variant)


def _not_understood(intent: Intent, knowledge: Knowledge) -> Resolution:
    words = knowledge.vocabulary.all_words() + knowledge.packages.names()
    close = difflib.get_close_matches(intent.subject, list(dict.fromkeys(words)), n=5, cutoff=0.6)
    return Resolution(intent, problem=f"not understood: `{intent.subject}`", suggestions=tuple(close))


def _resolve_enable(intent: Intent, knowledge: Knowledge) -> Resolution:
    features = knowledge.vocabulary.find(intent.subject)
    if features and features[0].how in ("exact", "words") and len(features) == 1:
        return Resolution(intent, (feature_choice(features[0].feature),), certain=True)
    removed = knowledge.vocabulary.find_removed(intent.subject)
    if removed is not None and not features:
        return Resolution(intent, problem=f"`{removed.old}` no longer exists in NixOS: {removed.advice}")
    packages = [m for m in knowledge.packages.find(intent.subject) if m.how != "close"]
    return _from_matches(intent, packages, features, knowledge) if features or packages else _not_understood(intent, knowledge)


def _resolve_disable(intent: Intent, knowledge: Knowledge) -> Resolution:
    features = knowledge.vocabulary.find(intent.subject)
    if not features:
        return _not_understood(intent, knowledge)
    choices = tuple(feature_choice(m.feature, enable=False) for m in features)
    return Resolution(intent, choices, certain=features[0].how in ("exact", "words") and len(features) == 1)


def _resolve_remove(intent: Intent, knowledge: Knowledge) -> Resolution:
    """Packages to take out of any package list of the file, or features to switch off. Which of these the
    file actually has is for `ask` to check: the words alone cannot know."""
    packages = [m for m in knowledge.packages.find(intent.subject) if m.how != "close"]
    choices = [remove_choice(m.package.attr, m.package.description) for m in packages]
    features = [m for m in knowledge.vocabulary.find(intent.subject) if m.how != "close"]
    choices.extend(feature_choice(m.feature, enable=False) for m in features)
    if not choices and re.fullmatch(r"[A-Za-z_][\w'-]*", intent.subject):
        choices.append(remove_choice(intent.subject, ""))  # not a name we know, but the file may have it
    if not choices:
        return _not_understood(intent, knowledge)
    return Resolution(intent, tuple(choices), certain=len(choices) == 1)


def remove_choice(attr: str, description: str) -> Choice:
    return Choice(
        f"remove:{attr}",
        f"Remove {attr} from the installed packages",
        f"{attr}: {description}" if description else attr,
        (RemovePackages((attr,)),),
    )


# -- ports, settings, users -----------------------------------------------------------------------------


def _port_lists(protocol: str | None, is_range: bool) -> tuple[str, ...]:
    kind = "UDP" if protocol == "udp" else "TCP"
    return ("networking", "firewall", f"allowed{kind}PortRanges" if is_range else f"allowed{kind}Ports")


def _resolve_port(intent: Intent, knowledge: Knowledge) -> Resolution:
    assert intent.value is not None
    low, _, high = intent.value.partition("-")
    numbers = [int(low)] + ([int(high)] if high else [])
    if any(not 1 <= n <= 65535 for n in numbers) or (high and int(high) < int(low)):
        return Resolution(intent, problem=f"`{intent.value}` is not a port number (ports go from 1 to 65535)")
    protocol = (intent.protocol or "tcp").upper()
    path = _port_lists(intent.protocol, bool(high))
    item = f"{{ from = {low}; to = {high}; }}" if high else low
    opening = intent.action is Action.OPEN_PORT
    verb = "Open" if opening else "Close"
    label = f"ports {low}-{high}" if high else f"port {low}"
    operation: Operation = AddToList(path, (item,)) if opening else RemoveFromList(path, (item,))
    choice = Choice(f"port:{intent.value}/{protocol}", f"{verb} {protocol} {label} in the firewall ({'.'.join(path)})",
                    f"{verb.lower()} {protocol} {label}", (operation,))
    return Resolution(intent, (choice,), certain=True)


@functools.cache
def time_zones() -> tuple[str, ...]:
    """Time zone names from the system's zone database (empty when there is none)."""
    if not os.path.isdir(ZONEINFO):
        return ()
    found = []
    for folder, _dirs, files in os.walk(ZONEINFO):
        for name in files:
            zone = os.path.relpath(os.path.join(folder, name), ZONEINFO)
            if zone[:1].isupper() and not zone.startswith(("posix/", "right/", "SystemV/")) and "." not in zone:
                found.append(zone)
    return tuple(sorted(found))


def _timezones(value: str) -> list[str] | None:
    """Zones a name may mean: `europe/berlin` → [Europe/Berlin]; a city alone, `new york` → [America/New_York];
    several when the city name is not unique. None when the system has no zone database to check against."""
    zones = time_zones()
    if not zones:
        return None
    wanted = value.strip().replace(" ", "_").lower()
    exact = [z for z in zones if z.lower() == wanted]
    if exact:
        return exact
    return [z for z in zones if z.rsplit("/", 1)[-1].lower() == wanted]


# Languages people name instead of a locale; the first locale of each is the one offered first.
LANGUAGES = {
    "english": ("en_US", "en_GB", "en_AU", "en_CA"), "german": ("de_DE", "de_AT", "de_CH"),
    "french": ("fr_FR", "fr_CA", "fr_BE", "fr_CH"), "spanish": ("es_ES", "es_MX"), "italian": ("it_IT",),
    "portuguese": ("pt_PT", "pt_BR"), "brazilian portuguese": ("pt_BR",), "dutch": ("nl_NL", "nl_BE"),
    "polish": ("pl_PL",), "russian": ("ru_RU",), "ukrainian": ("uk_UA",), "japanese": ("ja_JP",),
    "chinese": ("zh_CN", "zh_TW"), "korean": ("ko_KR",), "swedish": ("sv_SE",), "norwegian": ("nb_NO",),
    "danish": ("da_DK",), "finnish": ("fi_FI",), "czech": ("cs_CZ",), "turkish": ("tr_TR",), "greek": ("el_GR",),
    "hungarian": ("hu_HU",), "romanian": ("ro_RO",), "hebrew": ("he_IL",), "arabic": ("ar_SA",), "hindi": ("hi_IN",),
}


def _locales(value: str) -> list[str]:
    """`de_de.utf8` → [de_DE.UTF-8]; `french` → [fr_FR.UTF-8, fr_CA.UTF-8, …]; [] when neither."""
    match = re.fullmatch(r"([a-z]{2,3})[_-]([a-z]{2})(?:\.(utf-?8))?", value.strip(), re.IGNORECASE)
    if match is not None:
        return [f"{match.group(1).lower()}_{match.group(2).upper()}.UTF-8"]
    return [f"{code}.UTF-8" for code in LANGUAGES.get(" ".join(value.lower().split()), ())]


def _resolve_set(intent: Intent, knowledge: Knowledge) -> Resolution:
    value = (intent.value or "").strip()
    if intent.subject == "timezone":
        zones = _timezones(value)
        if zones is None:  # no zone database here to check the name against: take it as written
            zones = [value]
        if not zones:
            return Resolution(intent, problem=f"`{value}` is not a time zone this system knows (e.g. Europe/Berlin)")
        return _settings(intent, ("time", "timeZone"), zones, "Set the time zone to {}")
    if intent.subject == "hostname":
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?", value):
            return Resolution(intent, problem=f"`{value}` cannot be a host name (letters, digits and `-`, up to 63)")
        return _settings(intent, ("networking", "hostName"), [value], "Set the host name to {}")
    if intent.subject == "locale":
        locales = _locales(value)
        if not locales:
            return Resolution(intent, problem=f"`{value}` is not a locale such as en_US.UTF-8 or a language such as German")
        return _settings(intent, ("i18n", "defaultLocale"), locales, "Set the language (locale) to {}")
    if intent.subject == "keyboard":
        if not re.fullmatch(r"[a-z]{2,8}(,[a-z]{2,8})*", value.lower()):
            return Resolution(intent, problem=f"`{value}` is not a keyboard layout name such as us, de or fr")
        return _settings(intent, ("services", "xserver", "xkb", "layout"), [value.lower()], "Set the keyboard layout to {}")
    return _not_understood(intent, knowledge)


def _settings(intent: Intent, path: tuple[str, ...], values: Sequence[str], title: str) -> Resolution:
    """One choice per candidate value; only a single candidate is taken without asking."""
    dotted = ".".join(path)
    choices = tuple(
        Choice(f"set:{dotted}={v}", f"{title.format(v)} ({dotted})", title.format(v), (SetOption(path, nix_string(v)),))
        for v in values
    )
    return Resolution(intent, choices, certain=len(choices) == 1)


_USER_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


def _resolve_user(intent: Intent, knowledge: Knowledge) -> Resolution:
    name = intent.subject
    if not _USER_NAME.fullmatch(name):
        return Resolution(intent, problem=f"`{name}` cannot be a user name (lower-case letters, digits, `-`, `_`)")
    choice = Choice(f"user:{name}", f"Add user {name} (users.users.{name})", f"a normal user account named {name}",
                    (SetOption(("users", "users", name, "isNormalUser"), "true"),),
                    notes=(f"set a password with `passwd {name}` after rebuilding",))
    return Resolution(intent, (choice,), certain=True)


def _resolve_group(intent: Intent, knowledge: Knowledge) -> Resolution:
    user, group = intent.subject, intent.value or ""
    if not _USER_NAME.fullmatch(user) or not _USER_NAME.fullmatch(group):
        return Resolution(intent, problem=f"`{user}` or `{group}` is not a valid user or group name")
    path = ("users", "users", user, "extraGroups")
    if intent.action is Action.REMOVE_FROM_GROUP:
        choice = Choice(f"ungroup:{user}:{group}", f"Remove {user} from the {group} group ({'.'.join(path)})",
                        f"{user} leaves the {group} group", (RemoveFromList(path, (nix_string(group),)),),
                        user=user)
    else:
        choice = Choice(f"group:{user}:{group}", f"Add {user} to the {group} group ({'.'.join(path)})",
                        f"{user} joins the {group} group", (AddToList(path, (nix_string(group),)),), user=user)
    return Resolution(intent, (choice,), certain=True)


_RESOLVERS = {
    Action.INSTALL: _resolve_install,
    Action.REMOVE: _resolve_remove,
    Action.ENABLE: _resolve_enable,
    Action.DISABLE: _resolve_disable,
    Action.OPEN_PORT: _resolve_port,
    Action.CLOSE_PORT: _resolve_port,
    Action.SET: _resolve_set,
    Action.ADD_USER: _resolve_user,
    Action.ADD_TO_GROUP: _resolve_group,
    Action.REMOVE_FROM_GROUP: _resolve_group,
}
