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
    REMOVE_FROM_GROUP = "remove-from-group"


@attrs.frozen
class Intent:
    """One thing the user asked for. `subject` is the words naming the thing ("htop", "ssh server");
    `value` holds a setting's new value, a port range, or a group name."""

    action: Action
    subject: str
    value: str | None = None
    protocol: str | None = None  # "tcp" or "udp" for ports
    words: str = ""  # the clause as typed, for messages

    @property
    def topic(self) -> str:
        """What the intent is about, in the user's words: "python", or "locale french" for a setting."""
        return f"{self.subject} {self.value}" if self.action is Action.SET else self.subject


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
    "from the system", "from my system", "from my config", "from my configuration", "from the config",
    "from the configuration", "thx", "completely", "entirely", "altogether",
)
# "I need curl", "I'd like firefox": a wish without a verb is a request to install (not "I need to …")
_WISH = re.compile(r"^(?:i\s+(?:really\s+)?(?:need|want)|i'd\s+like|i\s+would\s+like)\s+(?!to\b)", re.IGNORECASE)
ARTICLES = ("the", "a", "an", "some", "my")

# "open port 8080", "open the udp ports 60000 to 61000", "close port 53/udp", "open 8080", "open the firewall
# for port 443", "allow incoming connections on port 5432", "open port 22 for ssh" (a purpose, not a protocol)
_PORT = re.compile(
    r"^(?P<verb>open|allow|unblock|close|block|deny)\s+(?:(?:the\s+)?firewall\s+(?:for|on|to)\s+)?"
    r"(?:(?:incoming\s+)?(?:connections|traffic)\s+(?:on|to|through)\s+)?(?:the\s+)?(?:(?P<p1>tcp|udp)\s+)?(?:ports?\s+)?"
    r"(?P<from>\d{1,5})(?:\s*(?:-|to|:|through|\.\.)\s*(?P<to>\d{1,5}))?(?:/(?P<p4>tcp|udp))?(?:\s+(?P<p2>tcp|udp))?"
    r"(?:\s+(?:on|in)\s+(?:the\s+)?firewall)?"
    r"(?:\s+for\s+(?:(?P<p3>tcp|udp)|(?![^,;&]*\b(?:and|then|plus|tcp|udp)\b)[^,;&]+))?$",
    re.IGNORECASE,
)
_SET = re.compile(
    # "set the time zone Europe/Berlin" may leave out "to"; "make my computer faster" must not be a rename,
    # so the other verbs need their "to"
    r"^(?:(?:set|change)\s+(?:the\s+|my\s+|this\s+)?(?:default\s+)?(?P<what>WHAT)(?:\s+(?:to|=|as|into))?"
    r"|(?:make|switch|rename)\s+(?:the\s+|my\s+|this\s+)?(?:default\s+)?(?P<what2>WHAT)\s+(?:to|=|as|into))"
    r"\s+(?P<value>.+)$".replace(
        "WHAT",
        r"time\s*zone|timezone|tz|host\s*name|hostname|computer(?:\s+name)?|machine(?:\s+name)?|locale|language|"
        r"system\s+language|keyboard(?:\s+layout)?|keymap|layout|state\s*version",
    ),
    re.IGNORECASE,
)
# without a verb only for names that cannot start anything else: "timezone Europe/London", "hostname nixbox"
_SET_BARE = re.compile(
    r"^(?:the\s+|my\s+)?(?P<what>time\s*zone|timezone|host\s*name|hostname|locale)(?:\s+(?:to|=|is))?\s+(?P<value>\S+)$",
    re.IGNORECASE,
)
_USER = re.compile(r"^(?:add|create|make|new)\s+(?:a\s+)?(?:new\s+)?user(?:\s+account)?\s+(?:named\s+|called\s+)?(?P<name>\S+)$", re.IGNORECASE)
_GROUP = re.compile(
    r"^(?:add|put)\s+(?:user\s+)?(?P<user>\S+)\s+(?:to|in|into)\s+(?:the\s+)?(?:group\s+(?P<g1>\S+)|(?P<g2>\S+)\s+group)$",
    re.IGNORECASE,
)
# "add alice to the video and audio groups"
_UNGROUP = re.compile(
    r"^(?:remove|take|drop|delete|kick)\s+(?:user\s+)?(?P<user>\S+)\s+(?:from|out\s+of)\s+(?:the\s+)?"
    r"(?:group\s+(?P<g1>\S+)|(?P<g2>\S+)\s+group)$",
    re.IGNORECASE,
)
_GROUPS = re.compile(
    r"^(?:add|put)\s+(?:user\s+)?(?P<user>\S+)\s+(?:to|in|into)\s+(?:the\s+)?"
    r"(?P<groups>[\w-]+(?:\s*(?:,|\band\b|&)\s*[\w-]+)+)\s+groups$",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"\s*(?:,|;|\band then\b|\bthen\b|\band\b|&|\bplus\b|\bas well as\b)\s*", re.IGNORECASE)

SETTING_NAMES = {
    "time zone": "timezone", "timezone": "timezone", "tz": "timezone",
    "host name": "hostname", "hostname": "hostname", "computer name": "hostname", "machine name": "hostname",
    "computer": "hostname", "machine": "hostname",
    "locale": "locale", "language": "locale", "system language": "locale",
    "keyboard": "keyboard", "keyboard layout": "keyboard", "keymap": "keyboard", "layout": "keyboard",
    "state version": "stateversion", "stateversion": "stateversion",
}


def normalise(text: str) -> str:
    """Single spaces, no filler or politeness, no trailing punctuation. Case is kept (a time zone or a user
    name keeps it); every match below ignores case."""
    text = re.sub(r"\s+", " ", text.strip())
    text = re.sub(r"\s*\([^()]*\)", "", text)  # "Enable touchpad support (enabled default in most …)."
    text = re.sub(r"[!?.]+$", "", text).strip()
    # "Or disable the firewall altogether." (the installer's comments read as requests, too)
    text = re.sub(r"^(?:or|and|also|then)\s+", "", text, flags=re.IGNORECASE)
    text = _WISH.sub("install ", re.sub(r"^(?:please|pls|plz)\s+", "", text, flags=re.IGNORECASE))
    for phrase in sorted(FILLER, key=len, reverse=True):
        text = re.sub(rf"(?:(?<=\s)|^){re.escape(phrase)}(?=\s|$|,)", " ", text, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", text).strip(" ,")


def parse_request(text: str) -> list[Intent]:
    """The intents in a request, in order; [] when nothing reads as a request."""
    clean = normalise(text)
    if not clean:
        return []
    if match := _GROUPS.match(clean):
        groups = [g for g in re.split(r"\s*(?:,|\band\b|&)\s*", match.group("groups")) if g]
        return [Intent(Action.ADD_TO_GROUP, match.group("user").lower(), g.lower(), words=clean) for g in groups]
    whole = _pattern_intent(clean)
    if whole is not None and whole.action is not Action.SET:
        return [whole]
    intents, every_clause_read = _clause_intents(clean)
    if whole is not None and not (len(intents) > 1 and every_clause_read):
        # a setting's value may hold a separator itself ("set the keyboard layout to us,de"): split only
        # when every piece reads as a request of its own ("set the hostname to box and the time zone to …")
        return [whole]
    return intents


def _clause_intents(clean: str) -> tuple[list[Intent], bool]:
    """Intents clause by clause, the verb carrying over ("add neovim, ripgrep and fd"); so do "open port" /
    "close port" ("open ports 80 and 443") and "set" ("set the hostname to box and the time zone to UTC"),
    which would otherwise drop the later clauses without a word. Also says whether every clause was read."""
    intents: list[Intent] = []
    verb: Action | None = None
    every_clause_read = True
    for clause in _SPLIT.split(clean):
        clause = clause.strip()
        if not clause:
            continue
        special = _pattern_intent(clause) or _carried_intent(clause, intents[-1] if intents else None)
        if special is not None:
            intents.append(special)
            verb = special.action if special.action in VERBS else None
            continue
        found, rest = _leading_verb(clause)
        if found is not None:
            verb = found
        elif verb is None:
            every_clause_read = False
            continue
        subject = _strip_articles(rest if found is not None else clause).lower()
        if verb in (Action.INSTALL, Action.REMOVE):
            subject = _PACKAGE_WORDS.sub("", subject).strip()
        if subject:
            intents.append(Intent(verb, subject, words=clause))
    return intents, every_clause_read


# "install the htop package", "add htop to systemPackages": the words around a package name, not part of it
_PACKAGE_WORDS = re.compile(
    r"^pkgs\.|\s+packages?$|\s+(?:to|from|in|into)\s+(?:the\s+)?(?:environment\.)?system\s*packages$"
)

_OTHER_PROTOCOL = re.compile(r"^(?:for\s+)?(tcp|udp)$", re.IGNORECASE)
_MORE_PORTS = re.compile(
    r"^(?:(?P<p1>tcp|udp)\s+)?(?:ports?\s+)?(?P<from>\d{1,5})(?:\s*(?:-|to|:|through|\.\.)\s*(?P<to>\d{1,5}))?"
    r"(?:/(?P<p3>tcp|udp))?(?:\s+(?P<p2>tcp|udp))?$",
    re.IGNORECASE,
)


def _carried_intent(clause: str, previous: Intent | None) -> Intent | None:
    """A clause that continues the previous port or setting intent: "443" after "open port 80", "the time
    zone to UTC" after "set the hostname to box"."""
    if previous is None:
        return None
    if previous.action in (Action.OPEN_PORT, Action.CLOSE_PORT) and (match := _OTHER_PROTOCOL.match(clause)):
        return Intent(previous.action, "port", previous.value, match.group(1).lower(), clause)  # "53 tcp and udp"
    if previous.action in (Action.OPEN_PORT, Action.CLOSE_PORT) and (match := _MORE_PORTS.match(clause)):
        protocol = (match.group("p1") or match.group("p2") or match.group("p3") or previous.protocol or "tcp").lower()
        start, end = match.group("from"), match.group("to")
        return Intent(previous.action, "port", f"{start}-{end}" if end else start, protocol, clause)
    if previous.action is Action.SET:
        carried = _pattern_intent(f"set {clause}")
        if carried is not None and carried.action is Action.SET:
            return attrs.evolve(carried, words=clause)
    return None


def _pattern_intent(clause: str) -> Intent | None:
    if match := _PORT.match(clause):
        protocol = (match.group("p1") or match.group("p2") or match.group("p3") or match.group("p4") or "tcp").lower()
        action = Action.CLOSE_PORT if match.group("verb").lower() in ("close", "block", "deny") else Action.OPEN_PORT
        start, end = match.group("from"), match.group("to")
        return Intent(action, "port", f"{start}-{end}" if end else start, protocol, clause)
    if match := _SET.match(clause) or _SET_BARE.match(clause):
        named = match.groupdict().get("what") or match.group("what2")
        what = SETTING_NAMES[re.sub(r"\s+", " ", named.lower())]
        return Intent(Action.SET, what, match.group("value").strip().strip("\"'"), words=clause)
    if match := _GROUP.match(clause):
        group = match.group("g1") or match.group("g2")
        return Intent(Action.ADD_TO_GROUP, match.group("user").lower(), group.lower(), words=clause)
    if match := _UNGROUP.match(clause):
        group = match.group("g1") or match.group("g2")
        return Intent(Action.REMOVE_FROM_GROUP, match.group("user").lower(), group.lower(), words=clause)
    if match := _USER.match(clause):
        return Intent(Action.ADD_USER, match.group("name").lower(), words=clause)
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
