"""The open documents, by URI, with the version checks that keep features from reading stale text."""

from __future__ import annotations

from collections.abc import Iterable

from .document import Change, Document, Edit, PositionEncoding


class UnknownDocument(LookupError):
    """A request named a document that is not open."""

    def __init__(self, uri: str) -> None:
        super().__init__(f"document {uri} is not open: open it (textDocument/didOpen) before asking about it")
        self.uri = uri


class StaleVersion(ValueError):
    """A request or change was made against a version other than the one held."""

    def __init__(self, uri: str, asked: int | None, held: int | None) -> None:
        super().__init__(f"document {uri} is at version {held}, not {asked}: the request refers to old text")
        self.uri, self.asked, self.held = uri, asked, held


class DocumentStore:
    def __init__(self) -> None:
        self._documents: dict[str, Document] = {}

    def open(self, uri: str, text: str, version: int | None = None) -> Document:
        document = Document(uri, text, version)
        self._documents[uri] = document
        return document

    def close(self, uri: str) -> None:
        self._documents.pop(uri, None)

    def __contains__(self, uri: str) -> bool:
        return uri in self._documents

    def uris(self) -> list[str]:
        return list(self._documents)

    def get(self, uri: str, version: int | None = None) -> Document:
        """The open document `uri`; with `version`, only if it is still at that version."""
        document = self._documents.get(uri)
        if document is None:
            raise UnknownDocument(uri)
        if version is not None and document.version is not None and version != document.version:
            raise StaleVersion(uri, version, document.version)
        return document

    def change(
        self,
        uri: str,
        version: int | None,
        changes: Iterable[Change],
        encoding: PositionEncoding,
        check_version: bool = True,
    ) -> tuple[Document, list[Edit]]:
        """Apply changes. A version that does not move forward raises `StaleVersion` and changes nothing,
        unless `check_version` is False."""
        document = self.get(uri)
        stale = version is not None and document.version is not None and version <= document.version
        if stale and check_version:
            raise StaleVersion(uri, version, document.version)
        return document, document.apply(changes, version, encoding)
