"""Checks on the bundled package knowledge file, data/packages.tsv.

The file is read with the standard library only, so these tests say whether the data itself is
well formed, independently of the code that loads it. Each check is a small function that returns
the problems it finds; the tests assert that the real file has none, and a second group of tests
feeds each check a deliberately broken sample to prove the check can fail.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import pytest

TSV = Path(__file__).resolve().parents[1] / "nix_humanity_ls" / "knowledge" / "data" / "packages.tsv"

MIN_ROWS = 600
MAX_DESCRIPTION = 80
ALLOWED_FLAGS = frozenset({"unfree", "gui", "cli", "font", "lib"})
# A Nix identifier as used for a top-level attribute: no dots, not starting with a digit or '-'.
ATTR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_'-]*$")

# Words that deliberately sit on several rows because they name a whole family of packages
# (e.g. "python" fits python3, python311, ...). A resolver should offer a choice for these,
# defaulting to the unversioned attribute. Every other word must belong to exactly one row.
AMBIGUOUS = frozenset(
    {
        "python",  # python3, python311, python312, python313, python314
        "python 3",  # same family
        "java",  # jdk8, jdk17, jdk21
        "jdk",  # same family (not itself a row in the file)
        "openjdk",  # same family
        "node",  # nodejs, nodejs_22, nodejs_24
        "node.js",  # same family
        "transmission",  # transmission_4, transmission_4-gtk, transmission_4-qt
        "pinentry",  # pinentry-curses, pinentry-gnome3, pinentry-qt
    }
)

# attr -> expected unfree flag; well-known packages whose licence status must be right.
MUST_HAVE = {
    "firefox": False,
    "vscode": True,
    "spotify": True,
    "discord": True,
    "steam": True,
    "google-chrome": True,
    "zoom-us": True,
    "slack": True,
    "obsidian": True,
    "htop": False,
    "tmux": False,
    "neovim": False,
    "ripgrep": False,
    "fd": False,
    "teams-for-linux": False,
    "git": False,
}


class Row(NamedTuple):
    line: int
    attr: str
    flags: str
    description: str
    words: str


def parse(text: str) -> tuple[list[str], list[Row], list[str]]:
    """Split the file into header comments, data rows and format problems."""
    comments: list[str] = []
    rows: list[Row] = []
    problems: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line == "" and number == len(text.split("\n")):
            continue  # the newline that ends the file
        if line.startswith("#"):
            if rows:
                problems.append(f"line {number}: comment after data rows")
            comments.append(line)
            continue
        if not line.strip():
            problems.append(f"line {number}: blank line")
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            problems.append(f"line {number}: {len(fields)} tab-separated fields, expected 4")
            continue
        if any(f != f.strip() for f in fields):
            problems.append(f"line {number}: stray whitespace around a field")
        rows.append(Row(number, *fields))
    if not text.endswith("\n"):
        problems.append("file does not end with a newline")
    return comments, rows, problems


def word_list(row: Row) -> list[str]:
    return [] if row.words == "-" else row.words.split(",")


def header_problems(comments: list[str]) -> list[str]:
    if not comments:
        return ["no header comment"]
    first = comments[0]
    missing = [c for c in ("attr", "flags", "description", "words") if c not in first]
    return [f"first comment line does not name column(s) {missing}"] if missing else []


def attr_problems(rows: list[Row]) -> list[str]:
    problems = []
    attrs = [r.attr for r in rows]
    for r in rows:
        if not ATTR_RE.match(r.attr):
            problems.append(f"line {r.line}: {r.attr!r} is not a top-level Nix identifier")
    seen: set[str] = set()
    for r in rows:
        if r.attr in seen:
            problems.append(f"line {r.line}: duplicate attr {r.attr!r}")
        seen.add(r.attr)
    if attrs != sorted(attrs):
        first_bad = next(i for i in range(1, len(attrs)) if attrs[i - 1] > attrs[i])
        problems.append(f"not sorted: {attrs[first_bad - 1]!r} comes before {attrs[first_bad]!r}")
    return problems


def flag_problems(rows: list[Row]) -> list[str]:
    problems = []
    for r in rows:
        if r.flags == "-":
            continue
        parts = r.flags.split(",")
        unknown = [p for p in parts if p not in ALLOWED_FLAGS]
        if unknown:
            problems.append(f"line {r.line}: {r.attr}: unknown flag(s) {unknown}")
        if len(set(parts)) != len(parts):
            problems.append(f"line {r.line}: {r.attr}: repeated flag")
    return problems


def description_problems(rows: list[Row]) -> list[str]:
    problems = []
    for r in rows:
        d = r.description
        if not d.strip() or d == "-":
            problems.append(f"line {r.line}: {r.attr}: empty description")
        if len(d) > MAX_DESCRIPTION:
            problems.append(f"line {r.line}: {r.attr}: description is {len(d)} characters")
        if d.endswith("."):
            problems.append(f"line {r.line}: {r.attr}: description ends with a period")
    return problems


def word_problems(rows: list[Row], ambiguous: frozenset[str] = AMBIGUOUS) -> list[str]:
    problems = []
    attrs = {r.attr for r in rows}
    owners: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        words = word_list(r)
        for w in words:
            if not w or w != w.strip():
                problems.append(f"line {r.line}: {r.attr}: empty or padded word {w!r}")
                continue
            if w != w.lower():
                problems.append(f"line {r.line}: {r.attr}: word {w!r} is not lowercase")
            if w in attrs:
                problems.append(f"line {r.line}: {r.attr}: word {w!r} is another package's attr")
            owners[w].append(r.attr)
        if len(set(words)) != len(words):
            problems.append(f"line {r.line}: {r.attr}: a word is repeated")
    for w, who in sorted(owners.items()):
        if len(who) > 1 and w not in ambiguous:
            problems.append(f"word {w!r} is used by {who} but is not listed as AMBIGUOUS")
    for w in sorted(ambiguous):
        if len(owners.get(w, [])) < 2:
            problems.append(f"AMBIGUOUS word {w!r} is on {owners.get(w, [])}, expected several rows")
    return problems


def must_have_problems(rows: list[Row], expected: dict[str, bool] = MUST_HAVE) -> list[str]:
    problems = []
    by_attr = {r.attr: r for r in rows}
    for attr, unfree in sorted(expected.items()):
        row = by_attr.get(attr)
        if row is None:
            problems.append(f"{attr} is missing")
            continue
        has_unfree = "unfree" in row.flags.split(",")
        if has_unfree != unfree:
            problems.append(f"{attr}: unfree flag is {has_unfree}, expected {unfree}")
    return problems


# --- the real file -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def parsed() -> tuple[list[str], list[Row], list[str]]:
    return parse(TSV.read_bytes().decode("utf-8"))


def test_file_format(parsed):
    _, _, problems = parsed
    assert problems == []


def test_header_documents_columns(parsed):
    comments, _, _ = parsed
    assert header_problems(comments) == []


def test_enough_rows(parsed):
    _, rows, _ = parsed
    assert len(rows) >= MIN_ROWS


def test_attrs(parsed):
    assert attr_problems(parsed[1]) == []


def test_flags(parsed):
    assert flag_problems(parsed[1]) == []


def test_descriptions(parsed):
    assert description_problems(parsed[1]) == []


def test_words(parsed):
    assert word_problems(parsed[1]) == []


def test_must_haves(parsed):
    assert must_have_problems(parsed[1]) == []


def test_ambiguous_families_cover_their_versioned_rows(parsed):
    by_attr = {r.attr: set(word_list(r)) for r in parsed[1]}
    for attr in ("python3", "python311", "python312", "python313", "python314"):
        assert "python" in by_attr[attr], attr
    for attr in ("nodejs", "nodejs_22", "nodejs_24"):
        assert "node" in by_attr[attr], attr


# --- each check can fail ------------------------------------------------------------------------

GOOD = "# columns: attr<TAB>flags<TAB>description<TAB>words\na\tcli\tFirst tool\talpha\nb\tunfree,gui\tSecond app\t-\n"


def rows_of(text: str) -> list[Row]:
    return parse(text)[1]


def test_sample_is_clean():
    comments, rows, problems = parse(GOOD)
    assert problems == [] and header_problems(comments) == []
    assert len(rows) == 2
    assert attr_problems(rows) == flag_problems(rows) == description_problems(rows) == []
    assert word_problems(rows, ambiguous=frozenset()) == []
    assert must_have_problems(rows, {"a": False, "b": True}) == []


@pytest.mark.parametrize(
    "text",
    [
        "# h attr flags description words\na\tcli\tOnly three fields\n",
        "# h attr flags description words\na\tcli\tx\t-\n\nb\tcli\ty\t-\n",
        "# h attr flags description words\na\tcli\tx\t-\n# late comment\n",
        "# h attr flags description words\na\tcli\tx\t-",
        "# h attr flags description words\na\tcli \tx\t-\n",
    ],
)
def test_format_check_fails(text):
    assert parse(text)[2] != []


def test_header_check_fails():
    assert header_problems([]) != []
    assert header_problems(["# name, kind, text"]) != []


@pytest.mark.parametrize(
    "text",
    [
        "b\tcli\tx\t-\na\tcli\ty\t-\n",  # unsorted
        "a\tcli\tx\t-\na\tcli\ty\t-\n",  # duplicate
        "python3Packages.pip\tcli\tx\t-\n",  # dotted path
        "7zip\tcli\tx\t-\n",  # starts with a digit
        "-foo\tcli\tx\t-\n",  # starts with a dash
    ],
)
def test_attr_check_fails(text):
    assert attr_problems(rows_of(text)) != []


@pytest.mark.parametrize("flags", ["proprietary", "gui,,cli", "gui,gui", "", "-,gui"])
def test_flag_check_fails(flags):
    assert flag_problems(rows_of(f"a\t{flags}\tx\t-\n")) != []


@pytest.mark.parametrize("description", ["", "-", "Ends with a period.", "x" * (MAX_DESCRIPTION + 1)])
def test_description_check_fails(description):
    assert description_problems(rows_of(f"a\tcli\t{description}\t-\n")) != []


@pytest.mark.parametrize(
    "text, ambiguous",
    [
        ("a\tcli\tx\tUpper\n", frozenset()),  # not lowercase
        ("a\tcli\tx\tb\nb\tcli\ty\t-\n", frozenset()),  # word is another attr
        ("a\tcli\tx\tshared\nb\tcli\ty\tshared\n", frozenset()),  # shared, not declared ambiguous
        ("a\tcli\tx\tonly here\n", frozenset({"only here"})),  # declared ambiguous, on one row
        ("a\tcli\tx\tone,,two\n", frozenset()),  # empty word
        ("a\tcli\tx\tsame,same\n", frozenset()),  # repeated word
    ],
)
def test_word_check_fails(text, ambiguous):
    assert word_problems(rows_of(text), ambiguous=ambiguous) != []


def test_word_check_accepts_declared_ambiguity():
    rows = rows_of("a\tcli\tx\tshared\nb\tcli\ty\tshared\n")
    assert word_problems(rows, ambiguous=frozenset({"shared"})) == []


def test_must_have_check_fails():
    rows = rows_of(GOOD)
    assert must_have_problems(rows, {"c": False}) != []  # missing
    assert must_have_problems(rows, {"a": True}) != []  # free but expected unfree
    assert must_have_problems(rows, {"b": False}) != []  # unfree but expected free
