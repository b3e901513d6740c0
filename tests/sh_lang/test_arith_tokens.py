"""The arithmetic tokenizer (str methods, no `re` at start-up) reads what its regular
expression would."""

from __future__ import annotations

import random
import re

from fusevm.lang.sh.arith import _token

EXPRESSION = re.compile(
    r"\s*(?:(0[xX][0-9a-fA-F]+|[0-9]+[0-9a-zA-Z_]*)|([A-Za-z_][A-Za-z0-9_]*)|"
    r"(<<=|>>=|&&|\|\||==|!=|<=|>=|<<|>>|\+=|-=|\*=|/=|%=|&=|\^=|\|=|\+\+|--|"
    r"[-+*/%<>&|^!~?:=()]))")


def test_each_token_is_the_one_the_expression_matches() -> None:
    chars = "0x1fgXa_Z9 \t\n\u00a0\u2003<>=&|!+-*/%^~?:()\u0663\u00e9."
    rnd = random.Random(5)
    for _ in range(5000):
        text = "".join(rnd.choice(chars) for _ in range(rnd.randint(0, 9)))
        for pos in range(len(text) + 1):
            m = EXPRESSION.match(text, pos)
            want = None
            if m is not None:
                kind = "num" if m.group(1) else "name" if m.group(2) else "op"
                want = (kind, m.group(m.lastindex or 0), m.end())
            assert _token(text, pos) == want, (text, pos)
