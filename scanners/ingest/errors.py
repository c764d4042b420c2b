"""The one error every artifact parser raises."""

from __future__ import annotations


class ArtifactParseError(Exception):
    """An artifact that cannot be read: empty, truncated, malformed or of another format.

    The message is shown to the user as is, so it says where and what: "line 17: expected
    'frame;frame;... count', got 'foo'".
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
