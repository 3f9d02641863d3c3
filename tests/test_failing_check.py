"""A check that raises is contained: `checked_problems`, which `document_problems` runs over `CHECKS`, logs
the failure with the check's name and traceback and still gives every other check's problems."""

from __future__ import annotations

import logging

import pytest

from nix_humanity_ls.ide.diagnostics import CHECKS, Check, checked_problems, document_problems
from nix_humanity_ls.ide.problem import Problem
from nix_humanity_ls.syntax.document import Document

# A clash Nix's parser rejects (parse rules) and a name nothing defines (undefined names).
TEXT = "{ pkgs, ... }:\n{\n  a = 1;\n  a = 2;\n  b = c;\n}\n"


def _broken(doc: Document, sources: object, style: str) -> list[Problem]:
    raise RuntimeError("a bug in a check")


def _codes(problems: list[Problem]) -> list[str]:
    return sorted(p.code for p in problems)


def test_the_real_checks_find_both_problems():
    found = document_problems(Document("file:///tmp/fail/a.nix", TEXT))
    assert _codes(found) == _codes(checked_problems(Document("file:///tmp/fail/b.nix", TEXT), CHECKS, None, "friendly"))
    assert len({p.code for p in found}) == 2, found


@pytest.mark.parametrize("place", range(len(CHECKS) + 1))
def test_a_raising_check_is_logged_and_the_others_still_run(caplog: pytest.LogCaptureFixture, place: int):
    expected = checked_problems(Document("file:///tmp/fail/c.nix", TEXT), CHECKS, None, "friendly")
    checks = (*CHECKS[:place], Check("broken check", _broken), *CHECKS[place:])
    with caplog.at_level(logging.ERROR, logger="nix_humanity_ls"):
        found = checked_problems(Document("file:///tmp/fail/d.nix", TEXT), checks, None, "friendly")
    assert _codes(found) == _codes(expected)
    (record,) = caplog.records
    assert "broken check" in record.getMessage() and "d.nix" in record.getMessage()
    assert record.exc_info is not None and "a bug in a check" in str(record.exc_info[1])
