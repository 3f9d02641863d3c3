"""User settings as typed attrs classes, read from and written to the camelCase JSON editors send.

Reading is forgiving by design: an unknown key is reported and ignored, a value of the wrong type is reported
and the previous value kept, and nothing a client sends can make the server fail. Later features add their
settings here as fields.
"""

from __future__ import annotations

import enum
import math
import typing
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

SECTION = "nixHumanity"


class ExplanationStyle(enum.Enum):
    FRIENDLY = "friendly"  # full sentences, our short explanation first
    CONCISE = "concise"  # one line and the type
    EXPERT = "expert"  # types, defaults and where an option is declared


class LogLevel(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"


def _positive(_instance: object, attribute: attrs.Attribute, value: float) -> None:
    # JSON as Python reads it may carry NaN and Infinity: neither is a usable count or timeout
    if isinstance(value, float) and not math.isfinite(value) or not value > 0:
        raise ValueError(f"must be a finite number greater than 0, not {value}")


@attrs.define
class DiagnosticsSettings:
    """What the live diagnostics show."""

    nix_parse_on_save: bool = True  # also ask `nix-instantiate --parse` on save
    max_problems: int = attrs.field(default=20, validator=_positive)


@attrs.define
class EvaluationSettings:
    """Evaluating the full options list of the user's system in the background (`nixpkgs/evaluated.py`)."""

    enable: bool = True
    memory_limit: int = attrs.field(default=4096, validator=_positive)  # megabytes Nix may use
    timeout: float = attrs.field(default=300.0, validator=_positive)  # seconds before it is stopped


class PythonBackend(enum.Enum):
    """Whether rebuilds may use nixos-rebuild-ng's Python module (JSON `true`/`false` also accepted)."""

    AUTO = "auto"  # when an installation is found and runs
    ON = "true"  # required: fail rather than fall back
    OFF = "false"  # never


class Elevation(enum.Enum):
    """How a rebuild that changes the system gains root when the server does not run as root."""

    AUTO = "auto"  # passwordless sudo, else run0, else pkexec: whichever is present
    SUDO = "sudo"
    RUN0 = "run0"
    PKEXEC = "pkexec"
    NONE = "none"  # never: such actions are refused with what to do instead


@attrs.define
class RebuildSettings:
    """How dry-build, build, switch and the rest run (docs/rebuild.md)."""

    python_backend: PythonBackend = PythonBackend.AUTO  # NIX_HUMANITY_PYTHON_BACKEND wins when set
    installation: str | None = None  # a nixos-rebuild-ng: its bin/nixos-rebuild or its site-packages
    flake: str | None = None  # flake reference; default: the workspace's flake.nix, else /etc/nixos/flake.nix
    host: str | None = None  # nixosConfigurations.<host>; default: this machine's host name
    target_host: str | None = None  # deploy over SSH
    build_host: str | None = None  # build over SSH
    confirm_switch: bool = True  # ask before switch, boot and rollback, with what changes
    build_on_save: bool = False  # a dry-build on every save of a .nix file (off: a configuration is code)
    timeout: float = attrs.field(default=3600.0, validator=_positive)  # seconds before a rebuild is stopped
    elevation: Elevation = Elevation.AUTO


@attrs.define
class Settings:
    nix_instantiate: str = "nix-instantiate"
    nix_timeout: float = attrs.field(default=10.0, validator=_positive)  # seconds for any nix command
    log_level: LogLevel = LogLevel.INFO
    diagnostics: DiagnosticsSettings = attrs.Factory(DiagnosticsSettings)
    aliases: dict[str, str] = attrs.Factory(dict)  # the user's own words: {"browser": "firefox"}
    nixpkgs_path: str | None = None  # used when no flake, channel or NIX_PATH names a nixpkgs
    evaluation: EvaluationSettings = attrs.Factory(EvaluationSettings)
    explanation_style: ExplanationStyle = ExplanationStyle.FRIENDLY
    rebuild: RebuildSettings = attrs.Factory(RebuildSettings)


@attrs.frozen
class SettingsUpdate:
    """The outcome of reading a settings object: the new settings and what was wrong with the input."""

    settings: Settings
    unknown: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _strict(kind: type) -> Any:
    """cattrs would turn "yes" into True and 1.5 into 1; a setting must have the type it claims."""
    accepted: tuple[type, ...] = (int, float) if kind is float else (kind,)

    def hook(value: Any, _type: type) -> Any:
        if isinstance(value, bool) and kind is not bool or not isinstance(value, accepted):
            raise TypeError(f"expected {'a number' if kind in (int, float) else kind.__name__}, got {value!r}")
        return kind(value)

    return hook


for _cls in (DiagnosticsSettings, EvaluationSettings, RebuildSettings, Settings):
    attrs.resolve_types(_cls)

converter = cattrs.Converter()
for _kind in (bool, int, float, str):
    converter.register_structure_hook(_kind, _strict(_kind))
converter.register_structure_hook(  # JSON true/false as well as the words
    PythonBackend, lambda value, _type: PythonBackend(str(value).lower() if isinstance(value, bool) else value)
)
for _cls in (DiagnosticsSettings, EvaluationSettings, RebuildSettings, Settings):  # inner classes first: outer hooks capture them
    converter.register_unstructure_hook(
        _cls,
        make_dict_unstructure_fn(_cls, converter, **{f.name: override(rename=_camel(f.name)) for f in attrs.fields(_cls)}),
    )


def unstructure(settings: Settings) -> dict[str, Any]:
    """Settings as the camelCase JSON object a client would send."""
    return converter.unstructure(settings)


def read_settings(raw: Any, current: Settings | None = None) -> SettingsUpdate:
    """Apply the JSON `raw` (either `{"nixHumanity": {...}}` or the section itself) over `current`."""
    current = current if current is not None else Settings()
    if isinstance(raw, dict) and SECTION in raw:
        if raw[SECTION] is not None and not isinstance(raw[SECTION], dict):
            return SettingsUpdate(current, errors=(f"`{SECTION}` must be an object, got {raw[SECTION]!r}",))
        raw = raw[SECTION]
    if raw is None:
        return SettingsUpdate(current)
    if not isinstance(raw, dict):
        return SettingsUpdate(current, errors=(f"settings must be an object, got {type(raw).__name__}",))
    unknown: list[str] = []
    errors: list[str] = []
    return SettingsUpdate(_merge(current, raw, "", unknown, errors), tuple(unknown), tuple(errors))


def _merge(current: Any, raw: dict[str, Any], prefix: str, unknown: list[str], errors: list[str]) -> Any:
    fields = {_camel(f.name): f for f in attrs.fields(type(current))}
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        field = fields.get(key)
        where = f"{prefix}{key}"
        if field is None:
            unknown.append(where)
            continue
        old = getattr(current, field.name)
        if attrs.has(type(old)):
            if isinstance(value, dict):
                changes[field.name] = _merge(old, value, f"{where}.", unknown, errors)
            else:
                errors.append(f"`{where}` must be an object, got {value!r}")
            continue
        try:
            if typing.get_origin(field.type) is dict and not isinstance(value, dict):
                raise TypeError(f"expected an object, got {value!r}")
            new = converter.structure(value, field.type)
            attrs.evolve(current, **{field.name: new})  # runs the field's validator
        except (TypeError, ValueError, cattrs.BaseValidationError) as error:
            errors.append(f"`{where}`: {_reason(error)}; keeping {converter.unstructure(old)!r}")
            continue
        changes[field.name] = new
    return attrs.evolve(current, **changes)


def _reason(error: Exception) -> str:
    if isinstance(error, cattrs.BaseValidationError) and error.exceptions:
        return str(error.exceptions[0])
    return str(error)
