"""Integrity of the bundled vocabulary (`nix_humanity_ls/knowledge/data/vocabulary.json`).

Read with the standard library only, so a broken file is reported here and not as a confusing failure
somewhere in the language layer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[1] / "nix_humanity_ls" / "knowledge" / "data" / "vocabulary.json"

KINDS = {"service", "program", "hardware", "desktop", "virtualisation", "nix", "system"}
ENTRY_FIELDS = {
    "id", "words", "title", "kind", "enable", "disable", "package", "prefer", "unfree", "groups", "summary", "note",
    "default_on",
}
REQUIRED_FIELDS = {"id", "words", "title", "kind", "enable", "summary"}
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# One segment of an option path: a Nix identifier, or a quoted name such as the `""` in
# `services.redis.servers."".enable`.
SEGMENT_RE = re.compile(r'[A-Za-z_][A-Za-z0-9_\'-]*|"(?:[^"\\]|\\.)*"')
GROUP_RE = re.compile(r"^[a-z_][a-z0-9_-]*$")


def load() -> dict[str, Any]:
    with DATA.open(encoding="utf-8") as handle:
        return json.load(handle)


VOCAB = load()
ENTRIES: list[dict[str, Any]] = VOCAB["entries"]


def split_path(path: str) -> list[str] | None:
    """Segments of a dotted option path, or None when it is not one."""
    if not isinstance(path, str) or not path:
        return None
    segments: list[str] = []
    position = 0
    while True:
        match = SEGMENT_RE.match(path, position)
        if match is None:
            return None
        segments.append(match.group(0))
        position = match.end()
        if position == len(path):
            return segments
        if path[position] != ".":
            return None
        position += 1


def starts_with(path: list[str], prefix: list[str]) -> bool:
    """Segment-wise: `services.avahi.nssmdns` is a prefix of `services.avahi.nssmdns.x`, not of `...nssmdns4`."""
    return len(path) >= len(prefix) and path[: len(prefix)] == prefix


def valid_value(value: Any) -> bool:
    """The value forms an entry may set: a Nix literal (bool, number, string), `{"nix": "<expr>"}`,
    `{"add": [strings]}` or `{"add_nix": [Nix texts]}`."""
    if isinstance(value, (bool, int, float, str)):
        return True
    if not isinstance(value, dict) or len(value) != 1:
        return False
    ((form, inner),) = value.items()
    if form == "nix":
        return isinstance(inner, str) and inner.strip() != ""
    if form in ("add", "add_nix"):
        return (
            isinstance(inner, list)
            and len(inner) > 0
            and all(isinstance(item, str) and item.strip() != "" for item in inner)
        )
    return False


def settings_of(entry: dict[str, Any]) -> list[tuple[str, Any]]:
    return [*entry["enable"].items(), *entry.get("disable", {}).items()]


def old_names() -> list[str]:
    return [r["old"] for r in VOCAB["renamed"]] + [r["old"] for r in VOCAB["removed"]]


def entry_for(phrase: str) -> dict[str, Any]:
    found = [e for e in ENTRIES if phrase in e["words"]]
    assert len(found) == 1, f"{phrase!r} should name exactly one entry, found {[e['id'] for e in found]}"
    return found[0]


# ---------------------------------------------------------------- the checkers themselves can fail


def test_path_checker_rejects_what_is_not_an_option_path():
    for bad in ("", "services..nginx", ".services", "services.", "services nginx", 'a."open', "a.1b", None):
        assert split_path(bad) is None, bad
    assert split_path('services.redis.servers."".enable') == ["services", "redis", "servers", '""', "enable"]
    assert split_path("nix.settings.experimental-features") == ["nix", "settings", "experimental-features"]


def test_prefix_checker_is_segment_wise():
    assert starts_with(["hardware", "opengl", "enable"], ["hardware", "opengl"])
    assert not starts_with(["services", "avahi", "nssmdns4"], ["services", "avahi", "nssmdns"])
    assert not starts_with(["hardware"], ["hardware", "opengl"])


def test_value_checker_rejects_unknown_forms():
    for bad in (None, [], ["a"], {}, {"nix": ""}, {"add": "flakes"}, {"add": []}, {"add": [1]},
                {"add_nix": [""]}, {"nix": "x", "add": ["y"]}, {"remove": ["x"]}):
        assert not valid_value(bad), bad
    for good in (True, False, 3, "weekly", {"nix": "pkgs.mariadb"}, {"add": ["nix-command"]}, {"add_nix": ['"nvidia"']}):
        assert valid_value(good), good


# ---------------------------------------------------------------- shape


def test_top_level_shape():
    assert VOCAB["version"] == 1
    assert set(VOCAB) == {"version", "entries", "removed", "renamed"}
    assert isinstance(VOCAB["entries"], list)
    assert isinstance(VOCAB["removed"], list) and VOCAB["removed"]
    assert isinstance(VOCAB["renamed"], list) and VOCAB["renamed"]


def test_at_least_170_entries():
    assert len(ENTRIES) >= 170


def test_entries_have_only_known_fields_and_all_required_ones():
    for entry in ENTRIES:
        assert set(entry) <= ENTRY_FIELDS, (entry.get("id"), set(entry) - ENTRY_FIELDS)
        assert REQUIRED_FIELDS <= set(entry), (entry.get("id"), REQUIRED_FIELDS - set(entry))


def test_ids_are_unique_lowercase_and_dash_separated():
    ids = [e["id"] for e in ENTRIES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for entry_id in ids:
        assert ID_RE.match(entry_id), entry_id


def test_titles_kinds_and_summaries():
    for entry in ENTRIES:
        assert isinstance(entry["title"], str) and entry["title"].strip() == entry["title"] != "", entry["id"]
        assert entry["kind"] in KINDS, (entry["id"], entry["kind"])
        summary = entry["summary"]
        assert isinstance(summary, str) and summary[:1].isupper() and summary.endswith("."), entry["id"]
        assert "\n" not in summary, entry["id"]
        if "note" in entry:
            assert isinstance(entry["note"], str) and entry["note"].strip() != "", entry["id"]


# ---------------------------------------------------------------- words


def test_phrases_are_lowercase_trimmed_and_not_empty():
    phrases = [(e["id"], w) for e in ENTRIES for w in e["words"]]
    phrases += [(r["old"], w) for r in VOCAB["removed"] for w in r["words"]]
    for owner, phrase in phrases:
        assert isinstance(phrase, str) and phrase != "", owner
        assert phrase == phrase.lower(), (owner, phrase)
        assert phrase == " ".join(phrase.split()), (owner, phrase)


def test_every_entry_and_removed_option_has_words():
    for entry in ENTRIES:
        assert isinstance(entry["words"], list) and entry["words"], entry["id"]
    for removed in VOCAB["removed"]:
        assert isinstance(removed["words"], list) and removed["words"], removed["old"]


def test_no_phrase_names_two_things():
    owner: dict[str, str] = {}
    clashes = []
    for entry in ENTRIES:
        for phrase in entry["words"]:
            if phrase in owner and owner[phrase] != entry["id"]:
                clashes.append((phrase, owner[phrase], entry["id"]))
            if phrase in owner and owner[phrase] == entry["id"]:
                clashes.append((phrase, "twice in", entry["id"]))
            owner[phrase] = entry["id"]
    for removed in VOCAB["removed"]:
        for phrase in removed["words"]:
            if phrase in owner:
                clashes.append((phrase, owner[phrase], removed["old"]))
            owner[phrase] = removed["old"]
    assert clashes == []


def test_an_id_is_never_another_entrys_phrase():
    # The language layer also looks entries up by id, so an id must not shadow another entry's words.
    owner = {w: e["id"] for e in ENTRIES for w in e["words"]}
    assert [(e["id"], owner[e["id"]]) for e in ENTRIES if owner.get(e["id"], e["id"]) != e["id"]] == []


# ---------------------------------------------------------------- option paths and values


def test_option_paths_are_dotted_identifiers():
    for entry in ENTRIES:
        for path, _ in settings_of(entry):
            assert split_path(path) is not None, (entry["id"], path)
    for renamed in VOCAB["renamed"]:
        assert split_path(renamed["old"]) is not None, renamed
        assert split_path(renamed["new"]) is not None, renamed
    for removed in VOCAB["removed"]:
        assert split_path(removed["old"]) is not None, removed


def test_no_entry_uses_a_renamed_or_removed_name():
    olds = [split_path(old) for old in old_names()]
    for entry in ENTRIES:
        for path, _ in settings_of(entry):
            segments = split_path(path)
            for old in olds:
                assert not starts_with(segments, old), (entry["id"], path, ".".join(old))


def test_enable_and_disable_values_have_allowed_forms():
    for entry in ENTRIES:
        assert isinstance(entry["enable"], dict) and entry["enable"], entry["id"]
        if "disable" in entry:
            # The language layer reads the first setting of "disable", so it must not be empty.
            assert isinstance(entry["disable"], dict) and entry["disable"], entry["id"]
        for path, value in settings_of(entry):
            assert valid_value(value), (entry["id"], path, value)


def test_default_disable_makes_sense():
    # Without "disable", turning a feature off sets the first enable key to false, which is only right
    # when that key is a switch that enabling sets to true.
    for entry in ENTRIES:
        if "disable" not in entry:
            first_value = next(iter(entry["enable"].values()))
            assert first_value is True, entry["id"]


def test_disable_only_touches_options_the_entry_enables():
    for entry in ENTRIES:
        extra = set(entry.get("disable", {})) - set(entry["enable"])
        assert extra == set(), (entry["id"], extra)


def test_optional_fields_have_the_right_types():
    for entry in ENTRIES:
        if "package" in entry:
            assert isinstance(entry["package"], str) and re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$", entry["package"]), entry["id"]
        if "prefer" in entry:
            # "prefer": "package" offers the package before the module; it needs a package to offer.
            assert entry["prefer"] == "package" and "package" in entry, entry["id"]
        if "unfree" in entry:
            assert entry["unfree"] is True, entry["id"]
        if "groups" in entry:
            groups = entry["groups"]
            assert isinstance(groups, list) and groups, entry["id"]
            assert all(isinstance(g, str) and GROUP_RE.match(g) for g in groups), entry["id"]
            assert len(groups) == len(set(groups)), entry["id"]


# ---------------------------------------------------------------- renamed and removed


def test_renamed_options_are_well_formed():
    olds = [r["old"] for r in VOCAB["renamed"]]
    assert len(olds) == len(set(olds)), sorted({o for o in olds if olds.count(o) > 1})
    for renamed in VOCAB["renamed"]:
        assert set(renamed) == {"old", "new"}, renamed
        assert renamed["old"] != renamed["new"], renamed
        # A new name must not itself be listed as old (no chains to follow).
        assert renamed["new"] not in olds, renamed


def test_removed_options_are_well_formed():
    for removed in VOCAB["removed"]:
        assert set(removed) <= {"words", "old", "advice", "package"}, removed
        assert isinstance(removed["advice"], str) and removed["advice"].endswith("."), removed["old"]
        if "package" in removed:
            assert isinstance(removed["package"], str) and removed["package"], removed["old"]


def test_known_renames_and_removals_are_listed():
    renamed = {r["old"]: r["new"] for r in VOCAB["renamed"]}
    assert renamed["hardware.opengl.enable"] == "hardware.graphics.enable"
    assert renamed["hardware.opengl.driSupport32Bit"] == "hardware.graphics.enable32Bit"
    assert renamed["hardware.pulseaudio"] == "services.pulseaudio"
    assert renamed["services.xserver.desktopManager.gnome"] == "services.desktopManager.gnome"
    assert renamed["services.xserver.displayManager.gdm"] == "services.displayManager.gdm"
    removed = {r["old"]: r for r in VOCAB["removed"]}
    assert removed["programs.adb"]["package"] == "android-tools"
    assert "adb" in removed["programs.adb"]["words"]
    assert "sound.enable" in removed
    assert "virtualisation.lxd" in removed
    assert "services.ollama.acceleration" in removed


# ---------------------------------------------------------------- must-haves


def test_ssh():
    assert entry_for("ssh")["enable"].get("services.openssh.enable") is True


def test_bluetooth():
    assert entry_for("bluetooth")["enable"].get("hardware.bluetooth.enable") is True


def test_docker_needs_the_docker_group():
    docker = entry_for("docker")
    assert docker["enable"].get("virtualisation.docker.enable") is True
    assert "docker" in docker.get("groups", [])


def test_sound_uses_pipewire():
    sound = entry_for("sound")
    assert sound["enable"].get("services.pipewire.enable") is True
    assert sound["enable"].get("services.pipewire.pulse.enable") is True
    assert sound["enable"].get("security.rtkit.enable") is True


def test_steam_is_the_module_first_and_the_package_second():
    steam = entry_for("steam")
    assert steam["enable"].get("programs.steam.enable") is True
    assert steam.get("package") == "steam"
    assert steam.get("unfree") is True


def test_gnome():
    assert entry_for("gnome")["enable"].get("services.desktopManager.gnome.enable") is True


def test_flakes_add_nix_command_and_flakes():
    value = entry_for("flakes")["enable"].get("nix.settings.experimental-features")
    assert isinstance(value, dict) and set(value) == {"add"}
    assert {"nix-command", "flakes"} <= set(value["add"])


def test_adb_has_no_module_entry():
    assert not any(path.startswith("programs.adb") for e in ENTRIES for path, _ in settings_of(e))
    assert not any("adb" in e["words"] for e in ENTRIES)


@pytest.mark.parametrize("phrase", ["steam", "nvidia", "plex", "vscode", "teamviewer", "vmware"])
def test_unfree_software_is_flagged(phrase: str):
    assert entry_for(phrase).get("unfree") is True


@pytest.mark.parametrize(
    ("comment", "entry_id"),
    [
        ("enable the openssh daemon", "ssh"),
        ("enable cups to print documents", "printing"),
        ("enable sound", "sound"),
        ("enable sound with pipewire", "sound"),
        ("enable the x11 windowing system", "x11"),
        ("enable touchpad support", "touchpad"),
        ("enable the gnome desktop environment", "gnome"),
        ("enable the kde plasma desktop environment", "plasma"),
        ("enable networking", "networkmanager"),
        ("enables wireless support via wpa_supplicant", "wpa-supplicant"),
        ("enable automatic login for the user", "autologin"),
        ("allow unfree packages", "allow-unfree"),
    ],
)
def test_installer_comments_name_their_entry(comment: str, entry_id: str):
    assert entry_for(comment)["id"] == entry_id


@pytest.mark.parametrize(
    ("entry_id", "group"),
    [("libvirtd", "libvirtd"), ("virtualbox", "vboxusers"), ("wireshark", "wireshark"), ("scanner", "scanner"),
     ("networkmanager", "networkmanager"), ("incus", "incus-admin")],
)
def test_groups_users_need(entry_id: str, group: str):
    entry = next(e for e in ENTRIES if e["id"] == entry_id)
    assert group in entry.get("groups", [])
