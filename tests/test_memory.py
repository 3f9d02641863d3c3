"""Remembered picks: read back, ranked first, and a corrupt or unwritable file is ignored with a log line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from nix_humanity_ls.ide.ask import ask
from nix_humanity_ls.language.memory import ChoiceMemory, state_dir
from nix_humanity_ls.language.resolve import bundled_knowledge
from nix_humanity_ls.syntax.document import Document

CONFIG = "{ pkgs, ... }:\n{\n  environment.systemPackages = with pkgs; [ git ];\n}\n"


def test_state_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert state_dir() == tmp_path / "nix-humanity"


def test_a_remembered_pick_ranks_first(tmp_path: Path):
    memory = ChoiceMemory(tmp_path / "choices.json")
    first = ask(Document("u", CONFIG), "install python", bundled_knowledge(remembered=memory.load()))
    assert first.status == "ambiguous"
    assert first.candidates[0].title != "Install python312 (environment.systemPackages)"
    memory.remember("python", "package:python312")
    again = ask(Document("u", CONFIG), "install python", bundled_knowledge(remembered=memory.load()))
    assert again.candidates[0].title == "Install python312 (environment.systemPackages)"
    assert len(again.candidates) == len(first.candidates)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"choices": 5}', ""])
def test_corrupt_file_is_ignored_with_a_log_line(tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture):
    path = tmp_path / "choices.json"
    path.write_text(content)
    with caplog.at_level(logging.WARNING, logger="nix_humanity_ls.language.memory"):
        assert ChoiceMemory(path).load() == {}
    assert str(path) in caplog.text


def test_unwritable_place_is_ignored_with_a_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the state directory should be")
    memory = ChoiceMemory(blocker / "choices.json")
    with caplog.at_level(logging.WARNING, logger="nix_humanity_ls.language.memory"):
        memory.remember("python", "package:python3")
    assert "could not remember" in caplog.text
    assert memory.load() == {}


def test_aliases_name_things_in_the_users_words():
    result = ask(Document("u", CONFIG), "install my browser", bundled_knowledge(aliases={"browser": "firefox"}))
    assert result.status == "proposed"
    assert b"firefox" in (result.new or b"")
