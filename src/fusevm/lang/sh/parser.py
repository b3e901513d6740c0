"""Recursive descent over the POSIX shell grammar (XCU 2.10) on top of the lexer.

`parse_command()` returns one complete command (a list ending at a newline) at a time, so
a script runs command by command, as in dash, and a syntax error late in a script does
not stop the commands before it.
"""

from __future__ import annotations

from fusevm.lang.sh import ast
from fusevm.lang.sh.lexer import RESERVED, Lexer, _assignment, _unquote, is_name

__all__ = ["RESERVED", "Parser", "is_name", "parse"]


_ENDS = (";", "&", "|", "&&", "||", ")", ";;")


class Parser(Lexer):
    """The grammar: lists, and-or lists, pipelines, commands, redirections."""

    def parse_all(self) -> list[ast.ListItem]:
        """The whole text as one command list (for `$(...)` bodies and `eval`)."""
        items = self.parse_list(("eof", None))
        tok = self.next()
        if tok[0] != "eof":
            raise self.unexpected(tok)
        return items

    def parse_command(self) -> list[ast.ListItem] | None:
        """The next complete command (items up to a newline); None at end of input."""
        while self.peek()[0] == "nl":
            self.next()
        if self.peek()[0] == "eof":
            return None
        items: list[ast.ListItem] = []
        while True:
            self.peek()
            start = self.tok_start
            cmd = self.and_or()
            tok = self.peek()
            if tok == ("op", "&", tok[2]):
                text = self.text[start:self.tok_start].strip()
                self.next()
                items.append(ast.ListItem(cmd, True, text))
            elif tok == ("op", ";", tok[2]):
                self.next()
                items.append(ast.ListItem(cmd, False))
            else:
                items.append(ast.ListItem(cmd, False))
                tok = self.peek()
                if tok[0] == "nl":
                    self.next()
                    return items
                if tok[0] == "eof":
                    return items
                raise self.unexpected(tok)
            tok = self.peek()
            if tok[0] == "nl":
                self.next()
                return items
            if tok[0] == "eof":
                return items

    def _linebreak(self) -> None:
        while self.peek()[0] == "nl":
            self.next()

    def _at_end(self, terms: tuple[str, object]) -> bool:
        tok = self.peek()
        if tok[0] == "eof":
            return True
        if tok[0] == "op" and tok[1] in (")", ";;"):
            return True
        word = self._reserved(tok)
        return word in ("then", "else", "elif", "fi", "do", "done", "esac", "}")

    def parse_list(self, terms: tuple[str, object]) -> list[ast.ListItem]:
        """A compound list: and-or lists separated by ; & or newlines, up to a terminator."""
        items: list[ast.ListItem] = []
        self._linebreak()
        while not self._at_end(terms):
            start = self.tok_start
            cmd = self.and_or()
            tok = self.peek()
            bg = False
            text = ""
            if tok[0] == "op" and tok[1] in (";", "&"):
                text = self.text[start:self.tok_start].strip()
                self.next()
                bg = tok[1] == "&"
            elif tok[0] == "nl":
                pass
            elif not self._at_end(terms):
                raise self.unexpected(tok)
            items.append(ast.ListItem(cmd, bg, text if bg else ""))
            self._linebreak()
        return items

    def _compound_list(self, what: str) -> list[ast.ListItem]:
        items = self.parse_list(("word", what))
        if not items:
            raise self.unexpected(self.peek())
        return items

    def and_or(self) -> ast.Command:
        line = self.peek()[2]
        first = self.pipeline()
        rest: list[tuple[str, ast.Command]] = []
        while True:
            tok = self.peek()
            if tok[0] == "op" and tok[1] in ("&&", "||"):
                self.next()
                self._linebreak()
                rest.append((str(tok[1]), self.pipeline()))
            else:
                break
        return ast.AndOr(first, rest, line) if rest else first

    def pipeline(self) -> ast.Command:
        tok = self.peek()
        line = tok[2]
        bang = False
        if self._reserved(tok) == "!":
            self.next()
            bang = True
        cmds = [self.command()]
        while True:
            tok = self.peek()
            if tok == ("op", "|", tok[2]):
                self.next()
                self._linebreak()
                cmds.append(self.command())
            else:
                break
        if len(cmds) == 1 and not bang:
            return cmds[0]
        return ast.Pipeline(cmds, bang, line)

    def _expect_word(self, word: str) -> None:
        tok = self.next()
        if self._reserved(tok) != word:
            raise self.unexpected(tok)

    def command(self) -> ast.Command:
        tok = self.peek()
        line = tok[2]
        word = self._reserved(tok)
        cmd: ast.Command
        if tok[0] == "word" and word is None:
            lit = self._word_of(tok).literal()
            if lit is not None and self.can_alias(lit):
                self.expand_alias(lit)
                nxt = self.peek()
                if nxt[0] in ("nl", "eof") or (nxt[0] == "op" and nxt[1] in _ENDS):
                    return ast.Simple([], [], [], line)
                return self.command()
        if word is not None:
            self.next()
            if word == "{":
                body = self._compound_list("}")
                self._expect_word("}")
                cmd = ast.Group(body, line)
            elif word == "if":
                cmd = self._if(line)
            elif word in ("while", "until"):
                cond = self._compound_list("do")
                self._expect_word("do")
                body = self._compound_list("done")
                self._expect_word("done")
                cmd = ast.Loop(cond, body, word == "until", line)
            elif word == "for":
                cmd = self._for(line)
            elif word == "case":
                cmd = self._case(line)
            else:
                raise self.unexpected(tok)
        elif tok == ("op", "(", line):
            self.next()
            body = self._compound_list(")")
            tok2 = self.next()
            if tok2[:2] != ("op", ")"):
                raise self.unexpected(tok2)
            cmd = ast.Subshell(body, line)
        elif tok[0] in ("word", "io") or (tok[0] == "op" and tok[1] in (
                "<", ">", ">>", "<&", ">&", "<>", ">|", "<<", "<<-")):
            return self.simple()
        else:
            raise self.unexpected(tok)
        redirs = self._redirs()
        return ast.Redirected(cmd, redirs, line) if redirs else cmd

    def _redirs(self) -> list[ast.Redir]:
        redirs: list[ast.Redir] = []
        while True:
            r = self._redir()
            if r is None:
                return redirs
            redirs.append(r)

    def _redir(self) -> ast.Redir | None:
        tok = self.peek()
        fd: int | None = None
        if tok[0] == "io":
            self.next()
            fd = int(tok[1])  # type: ignore[call-overload]
            tok = self.peek()
            if tok[0] != "op":
                raise self.unexpected(tok)
        if tok[0] != "op" or tok[1] not in ("<", ">", ">>", "<&", ">&", "<>", ">|", "<<",
                                              "<<-"):
            return None
        self.next()
        op = str(tok[1])
        target = self.next()
        if target[0] != "word":
            raise self.unexpected(target)
        word = self._word_of(target)
        if op in ("<<", "<<-"):
            raw = self._raw(target).replace("\\\n", "")
            quoted = any(not isinstance(p, ast.Lit) for p in word.parts) or "\\" in raw
            delim = _unquote(raw)
            doc = ast.HereDoc(delim, op == "<<-", quoted)
            self.heredocs.append(doc)
            return ast.Redir(fd, op, doc)
        return ast.Redir(fd, op, word)

    def simple(self) -> ast.Simple:
        line = self.peek()[2]
        assigns: list[tuple[str, ast.Word]] = []
        words: list[ast.Word] = []
        redirs: list[ast.Redir] = []
        while True:
            r = self._redir()
            if r is not None:
                redirs.append(r)
                continue
            tok = self.peek()
            if tok[0] != "word":
                break
            word = self._word_of(tok)
            if not words and (assigns or redirs):
                # the command word after prefix assignments or redirections
                lit = word.literal()
                if lit is not None and self.can_alias(lit):
                    self.expand_alias(lit)
                    continue
            if not words:
                split = _assignment(word)
                if split is not None:
                    self.next()
                    assigns.append(split)
                    continue
            if not words and not assigns:
                lit = word.literal()
                if lit is not None and is_name(lit):
                    # `name ( )` is a function definition
                    self.next()
                    nxt = self.peek()
                    if nxt[:2] == ("op", "("):
                        return self._funcdef(lit, line)  # type: ignore[return-value]
                    words.append(word)
                    continue
            self.next()
            words.append(word)
        if not assigns and not words and not redirs:
            raise self.unexpected(self.peek())
        return ast.Simple(assigns, words, redirs, line)

    def _funcdef(self, name: str, line: int) -> ast.Command:
        self.next()  # (
        tok = self.next()
        if tok[:2] != ("op", ")"):
            raise self.unexpected(tok)
        self._linebreak()
        start = self.pos
        body = self.command()
        if isinstance(body, ast.Simple):
            raise self.unexpected(self.peek())
        return ast.FuncDef(name, body, line, self.text[start:self.pos])

    def _if(self, line: int) -> ast.If:
        arms: list[tuple[list[ast.ListItem], list[ast.ListItem]]] = []
        orelse: list[ast.ListItem] | None = None
        while True:
            cond = self._compound_list("then")
            self._expect_word("then")
            body = self._compound_list("fi")
            arms.append((cond, body))
            tok = self.next()
            word = self._reserved(tok)
            if word == "elif":
                continue
            if word == "else":
                orelse = self._compound_list("fi")
                self._expect_word("fi")
                break
            if word == "fi":
                break
            raise self.unexpected(tok)
        return ast.If(arms, orelse, line)

    def _for(self, line: int) -> ast.For:
        tok = self.next()
        if tok[0] != "word":
            raise self.unexpected(tok)
        name = self._word_of(tok).literal()
        if name is None or not is_name(name):
            raise self.error("Bad for loop variable", tok[2])
        words: list[ast.Word] | None = None
        self._linebreak()
        tok = self.peek()
        if self._reserved(tok) == "in":
            self.next()
            words = []
            while True:
                tok = self.peek()
                if tok[0] != "word":
                    break
                self.next()
                words.append(self._word_of(tok))
            tok = self.next()
            if tok[0] not in ("nl",) and tok[:2] != ("op", ";"):
                raise self.unexpected(tok)
        elif tok[:2] == ("op", ";"):
            self.next()
        self._linebreak()
        tok = self.next()
        if self._reserved(tok) != "do":
            raise self.unexpected(tok)
        body = self._compound_list("done")
        self._expect_word("done")
        return ast.For(name, words, body, line)

    def _case(self, line: int) -> ast.Case:
        tok = self.next()
        if tok[0] != "word":
            raise self.unexpected(tok)
        word = self._word_of(tok)
        self._linebreak()
        tok = self.next()
        if self._reserved(tok) != "in":
            raise self.unexpected(tok)
        items: list[ast.CaseItem] = []
        while True:
            self._linebreak()
            tok = self.peek()
            if self._reserved(tok) == "esac":
                self.next()
                break
            if tok[:2] == ("op", "("):
                self.next()
            patterns: list[ast.Word] = []
            while True:
                tok = self.next()
                if tok[0] != "word":
                    raise self.unexpected(tok)
                patterns.append(self._word_of(tok))
                tok = self.next()
                if tok[:2] == ("op", "|"):
                    continue
                if tok[:2] == ("op", ")"):
                    break
                raise self.unexpected(tok)
            body = self.parse_list(("op", ";;"))
            items.append(ast.CaseItem(patterns, body))
            tok = self.peek()
            if tok[:2] == ("op", ";;"):
                self.next()
                continue
            if self._reserved(tok) == "esac":
                self.next()
                break
            raise self.unexpected(tok)
        return ast.Case(word, items, line)



def parse(text: str) -> list[ast.ListItem]:
    """Parse a whole script (used by tests and `fusevm dis --sh`)."""
    return Parser(text).parse_all()
