"""Settings over the protocol: workspace/didChangeConfiguration and initializationOptions. Valid values take
effect (observable through `diagnostics.maxProblems`), unknown keys are named in a log line, bad values are
named in a warning and the old value stays, and garbage never stops the server."""

from __future__ import annotations

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import document_symbols, open_document, server_config, start_session

BASE = "file:///tmp/nix-humanity-settings"
# 30 lines with one syntax error each: the number of diagnostics shows the maxProblems in force
MANY_ERRORS = "{\n" + "".join(f"  option{i} = ;\n" for i in range(30)) + "}\n"
ERRORS_URI = f"{BASE}/many-errors.nix"
# clients percent-encode paths with spaces or non-ASCII characters; republishing must reach these too
ENCODED_URI = f"{BASE}/my%20config/Gr%C3%BC%C3%9Fe.nix"


async def _configure(client: LanguageClient, settings: object) -> None:
    """didChangeConfiguration, then a request: its answer comes after everything the change made the server
    send (diagnostics, messages), because the server handles messages in order."""
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings))
    await document_symbols(client, ERRORS_URI)


def _shown(client: LanguageClient, since: int) -> list[str]:
    return [m.message for m in client.messages[since:]]


def _logged(client: LanguageClient, since: int) -> list[str]:
    return [m.message for m in client.log_messages[since:]]


@pytest_lsp.fixture(scope="module", config=server_config())
async def client(lsp_client: LanguageClient):
    await start_session(lsp_client)
    await open_document(lsp_client, ERRORS_URI, MANY_ERRORS)
    await open_document(lsp_client, ENCODED_URI, MANY_ERRORS)
    yield
    await lsp_client.shutdown_session()


async def test_default_limit(client: LanguageClient):
    await _configure(client, {"nixHumanity": {"diagnostics": {"maxProblems": 20}}})
    assert len(client.diagnostics[ERRORS_URI]) == 20


async def test_valid_settings_apply_to_every_open_document(client: LanguageClient):
    shown, logged = len(client.messages), len(client.log_messages)
    await _configure(
        client, {"nixHumanity": {"diagnostics": {"maxProblems": 5}, "logLevel": "debug", "nixTimeout": 2.5}}
    )
    assert len(client.diagnostics[ERRORS_URI]) == 5
    assert len(client.diagnostics[ENCODED_URI]) == 5
    assert _shown(client, shown) == []
    assert not any("unknown" in m for m in _logged(client, logged))
    # the section's contents alone work too
    await _configure(client, {"diagnostics": {"maxProblems": 7}, "logLevel": "info"})
    assert len(client.diagnostics[ERRORS_URI]) == 7


async def test_unknown_keys_are_logged_and_the_rest_applies(client: LanguageClient):
    logged, shown = len(client.log_messages), len(client.messages)
    await _configure(client, {"nixHumanity": {"colour": "blue", "diagnostics": {"maxProblems": 4, "verbose": True}}})
    lines = _logged(client, logged)
    assert any("`colour`" in line for line in lines), lines
    assert any("`diagnostics.verbose`" in line for line in lines), lines
    assert _shown(client, shown) == []
    assert len(client.diagnostics[ERRORS_URI]) == 4  # the known key took effect


@pytest.mark.parametrize(
    "settings, key",
    [
        ({"diagnostics": {"maxProblems": 0}}, "diagnostics.maxProblems"),
        ({"diagnostics": {"maxProblems": -3}}, "diagnostics.maxProblems"),
        ({"diagnostics": {"maxProblems": "7"}}, "diagnostics.maxProblems"),
        ({"diagnostics": {"maxProblems": 2.5}}, "diagnostics.maxProblems"),
        ({"diagnostics": {"maxProblems": True}}, "diagnostics.maxProblems"),
        ({"diagnostics": {"maxProblems": None}}, "diagnostics.maxProblems"),
        ({"diagnostics": {"maxProblems": [3]}}, "diagnostics.maxProblems"),
        ({"diagnostics": "none"}, "diagnostics"),
        ({"diagnostics": {"nixParseOnSave": "yes"}}, "diagnostics.nixParseOnSave"),
        ({"nixTimeout": float("nan")}, "nixTimeout"),
        ({"nixTimeout": float("inf")}, "nixTimeout"),
        ({"nixTimeout": "10"}, "nixTimeout"),
        ({"logLevel": "loud"}, "logLevel"),
        ({"logLevel": 3}, "logLevel"),
        ({"nixInstantiate": ["nix-instantiate"]}, "nixInstantiate"),
        ({"aliases": ["browser"]}, "aliases"),
        ({"aliases": {"browser": 1}}, "aliases"),
        ({"nixHumanity": "everything"}, "nixHumanity"),
    ],
)
async def test_bad_value_is_shown_and_the_old_value_kept(client: LanguageClient, settings: dict, key: str):
    await _configure(client, {"diagnostics": {"maxProblems": 3}})
    assert len(client.diagnostics[ERRORS_URI]) == 3
    shown = len(client.messages)
    await _configure(client, settings)
    (message,) = client.messages[shown:]
    assert f"`{key}`" in message.message
    assert message.type == types.MessageType.Warning
    assert len(client.diagnostics[ERRORS_URI]) == 3


async def test_good_and_bad_values_together(client: LanguageClient):
    shown = len(client.messages)
    await _configure(client, {"diagnostics": {"maxProblems": 0, "nixParseOnSave": False}, "logLevel": "warning"})
    (message,) = _shown(client, shown)
    assert "`diagnostics.maxProblems`" in message and "keeping" in message
    assert "nixParseOnSave" not in message
    await _configure(client, {"diagnostics": {"maxProblems": 6}, "logLevel": "info"})
    assert len(client.diagnostics[ERRORS_URI]) == 6


@pytest.mark.parametrize(
    "garbage",
    [None, [], [1, 2], "nixHumanity", 42, True, {}, {"nixHumanity": None}, {"": {"": None}}, {"a": [{"b": None}] * 50}],
    ids=repr,
)
async def test_garbage_never_stops_the_server(client: LanguageClient, garbage: object):
    await _configure(client, {"diagnostics": {"maxProblems": 2}})
    shown = len(client.messages)
    await _configure(client, garbage)
    assert len(client.diagnostics[ERRORS_URI]) == 2  # nothing changed
    if isinstance(garbage, (list, str, int)):  # not an object at all: said so
        (message,) = _shown(client, shown)
        assert "must be an object" in message


async def test_deeply_nested_garbage(client: LanguageClient):
    deep: object = 1
    for _ in range(150):  # (the test client's own encoder gives out at a few hundred levels)
        deep = {"diagnostics": deep}
    await _configure(client, {"diagnostics": {"maxProblems": 2}})
    await _configure(client, deep)
    assert len(client.diagnostics[ERRORS_URI]) == 2
    assert len(await document_symbols(client, ERRORS_URI)) > 0


# -- initializationOptions: a server of its own ---------------------------------------------------------------


@pytest_lsp.fixture(scope="module", config=server_config())
async def initialized(lsp_client: LanguageClient):
    await start_session(
        lsp_client,
        initialization_options={
            "nixHumanity": {"diagnostics": {"maxProblems": 3, "nixParseOnSave": "sometimes"}, "shinyNewSetting": 1}
        },
    )
    yield
    await lsp_client.shutdown_session()


async def test_initialization_options_apply(initialized: LanguageClient):
    client = initialized
    assert any("`shinyNewSetting`" in m.message for m in client.log_messages)
    assert any("`diagnostics.nixParseOnSave`" in m.message for m in client.messages)
    await open_document(client, ERRORS_URI, MANY_ERRORS)
    assert len(client.diagnostics[ERRORS_URI]) == 3
