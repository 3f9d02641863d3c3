"""Reading a plain-words request into intents: "please install htop and tmux", "enable ssh and docker",
"open port 8080", "set the time zone to Europe/Berlin", "add alice to the docker group".

Deterministic and small on purpose: a table of verb phrases, a few sentence patterns, and splitting on
"and"/commas where the verb carries over ("add neovim, ripgrep and fd"). What the words *name* (a package,
a service) is decided later by the knowledge lookup, not here.
"""

from __future__ import annotations

import enum
import re

import attrs


class Action(enum.Enum):
    INSTALL = "install"
    REMOVE = "remove"
    ENABLE = "enable"
    DISABLE = "disable"
    OPEN_PORT = "open-port"
    CLOSE_PORT = "close-port"
    SET = "set"
    ADD_USER = "add-user"
    ADD_TO_GROUP = "add-to-group"


@attrs.frozen
class Intent:
    """One thing the user asked for. `subject` is the words naming the thing ("htop", "ssh server");
    `value` holds a setting's new value, a port range, or a group name."""

    action: Action
    subject: str
    value: str | None = None
    protocol: str | None = None  # "tcp" or "udp" for ports
    words: str = ""  # the clause as typed, for messages


# Longest phrases first within each action; matched at the start of a clause.
VERBS: dict[Action, tuple[str, ...]] = {
    Action.REMOVE: ("get rid of", "uninstall", "remove", "delete", "drop", "purge"),
    Action.DISABLE: ("stop using", "turn off", "switch off", "shut off", "disable", "deactivate", "stop", "kill"),
    Action.ENABLE: (
        "start using", "turn on", "switch on", "set up", "setup", "enable", "activate", "start", "use", "configure",
        "allow",
    ),
    Action.INSTALL: ("install", "add", "get me", "give me", "get", "put", "include"),
}

FILLER = (
    "please", "pls", "plz", "kindly", "can you", "could you", "would you", "will you", "i want to", "i want",
    "i'd like to", "i would like to", "i'd like", "i would like", "i need to", "i need", "let me", "help me",
    "for me", "thanks", "thank you", "go ahead and", "also", "just", "now", "on this machine",
    "on my machine", "on my computer", "on this computer", "on the system", "on my system", "to the system",
    "to my system", "to my config", "to my configuration", "to the config", "to the configuration",
)
ARTICLES = ("the", "a", "an", "some", "my")

_PORT = re.compile(
    r"^(?P<verb>open|allow|unblock|close|block|deny)\s+(?:(?P<p1>tcp|udp)\s+)?ports?\s+"
    r"(?P<from>\d{1,5})(?:\s*(?:-|to|:|through|\.\.)\s*(?P<to>\d{1,5}))?(?:\s+(?P<p2>tcp|udp))?"
    r"(?:\s+(?:on|in)\s+(?:the\s+)?firewall)?(?:\s+for\s+(?P<p3>tcp|udp))?$",
    re.IGNORECASE,
)
_SET = re.compile(
    r"^(?:set|change|make|switch)\s+(?:the\s+|my\s+)?(?P<what>time\s*zone|timezone|tz|host\s*name|hostname|"
    r"computer\s+name|machine\s+name|locale|language|system\s+language|keyboard(?:\s+layout)?|keymap|"
    r"layout|state\s*version)\s+(?:to|=|as|into)\s+(?P<value>.+)$",
    re.IGNORECASE,
)
_USER = re.compile(r"^(?:add|create|make|new)\s+(?:a\s+)?(?:new\s+)?user(?:\s+account)?\s+(?:named\s+|called\s+)?(?P<name>\S+)$", re.IGNORECASE)
_GROUP = re.compile(
    r"^(?:add|put)\s+(?:user\s+)?(?P<user>\S+)\s+(?:to|in|into)\s+(?:the\s+)?(?:group\s+(?P<g1>\S+)|(?P<g2>\S+)\s+group)$",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"\s*(?:,|;|\band then\b|\bthen\b|\band\b|&|\bplus\b|\bas well as\b)\s*", re.IGNORECASE)

SETTING_NAMES = {
    "time zone": "timezone", "timezone": "timezone", "tz": "timezone",
    "host name": "hostname", "hostname": "hostname", "computer name": "hostname", "machine name": "hostname",
    "locale": "locale", "language": "locale", "system language": "locale",
    "keyboard": "keyboard", "keyboard layout": "keyboard", "keymap": "keyboard", "layout": "keyboard",
    "state version": "stateversion", "stateversion": "stateversion",
}


def normalise(text: str) -> str:
    """Single spaces, no filler or politeness, no trailing punctuation. Case is kept (a time zone or a user
    name keeps it); every match below ignores case."""
    text = re.sub(r"\s+", " ", text.strip())
    text = re.sub(r"[!?.]+$", "", text).strip()
    for phrase in sorted(FILLER, key=len, reverse=True):
        text = re.sub(rf"(?:(?<=\s)|^){re.escape(phrase)}(?=\s|$|,)", " ", text, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", text).strip(" ,")


def parse_request(text: str) -> list[Intent]:
    """The intents in a request, in order; [] when nothing reads as a request."""
    clean = normalise(text)
    if not clean:
        return []
    whole = _pattern_intent(clean)
    if whole is not None:
        return [whole]
    intents: list[Intent] = []
    verb: Action | None = None
    for clause in _SPLIT.split(clean):
        clause = clause.strip()
        if not clause:
            continue
        special = _pattern_intent(clause)
        if special is not None:
            intents.append(special)
            verb = special.action if special.action in VERBS else None
            continue
        found, rest = _leading_verb(clause)
        if found is not None:
            verb = found
        elif verb is None:
            continue
        subject = _strip_articles(rest if found is not None else clause).lower()
        if subject:
            intents.append(Intent(verb, subject, words=clause))
    return intents


def _pattern_intent(clause: str) -> Intent | None:
    if match := _PORT.match(clause):
        protocol = (match.group("p1") or match.group("p2") or match.group("p3") or "tcp").lower()
        action = Action.CLOSE_PORT if match.group("verb").lower() in ("close", "block", "deny") else Action.OPEN_PORT
        start, end = match.group("from"), match.group("to")
        return Intent(action, "port", f"{start}-{end}" if end else start, protocol, clause)
    if match := _SET.match(clause):
        what = SETTING_NAMES[re.sub(r"\s+", " ", match.group("what").lower())]
        return Intent(Action.SET, what, match.group("value").strip().strip("\"'"), words=clause)
    if match := _GROUP.match(clause):
        group = match.group("g1") or match.group("g2")
        return Intent(Action.ADD_TO_GROUP, match.group("user"), group.lower(), words=clause)
    if match := _USER.match(clause):
        return Intent(Action.ADD_USER, match.group("name"), words=clause)
    return None


def _leading_verb(clause: str) -> tuple[Action | None, str]:
    best: tuple[int, Action] | None = None
    lowered = clause.lower()
    for action, phrases in VERBS.items():
        for phrase in phrases:
            if (lowered == phrase or lowered.startswith(phrase + " ")) and (best is None or len(phrase) > best[0]):
                best = (len(phrase), action)
    if best is None:
        return None, clause
    return best[1], clause[best[0] :].strip()


def _strip_articles(words: str) -> str:
    parts = words.split()
    while parts and parts[0].lower() in ARTICLES:
        parts.pop(0)
    return " ".join(parts)
