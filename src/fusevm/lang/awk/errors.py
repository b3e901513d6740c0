"""The awk frontend's own error types: syntax errors and regex errors.

These do not derive from fusevm's VMError on purpose: the frontend must import on its own,
and a syntax error is found before any chunk exists. Messages follow onetrue-awk's wording
(`syntax error at source line N`) so users of either awk recognise them.
"""

from __future__ import annotations


class AwkSyntaxError(Exception):
    """A program that the lexer or parser rejects.

    Attributes:
        message: the full text, `syntax error at source line N: detail` plus the context.
        detail: the short reason, without location.
        line: 1-based source line.
        col: 1-based column of the offending token.
        context: the offending source line with `>>> token <<<` around the token, or "".
    """

    def __init__(self, detail: str, line: int, col: int, context: str = "") -> None:
        self.detail = detail
        self.line = line
        self.col = col
        self.context = context
        message = f"syntax error at source line {line}: {detail}"
        if context:
            message += f"\n context is\n\t{context}"
        self.message = message
        super().__init__(message)


class AwkRegexError(ValueError):
    """An ERE that cannot be translated (unbalanced parenthesis or bracket)."""


def error_context(source: str, offset: int, length: int) -> str:
    """The source line holding `offset`, with the token marked as onetrue-awk marks it."""
    start = source.rfind("\n", 0, offset) + 1
    end = source.find("\n", offset)
    if end < 0:
        end = len(source)
    token_end = min(offset + max(length, 0), end)
    before = source[start:offset]
    token = source[offset:token_end]
    after = source[token_end:end]
    return f"{before} >>> {token} <<< {after}".rstrip()


class AwkSemanticError(Exception):
    """A program that parses but cannot run: an array used as a scalar (or the reverse),
    a call to an undefined function, too many arguments. awk rejects these before running
    (exit status 2), reporting the source line."""

    def __init__(self, detail: str, line: int) -> None:
        self.detail = detail
        self.line = line
        self.message = f"{detail} at source line {line}" if line else detail
        super().__init__(self.message)
