"""The lexer's name scanning (str methods) against the POSIX name pattern."""

from __future__ import annotations

import random
import re

from fusevm.lang.sh.lexer import is_name, name_end

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def test_names_are_what_the_pattern_matches() -> None:
    rng = random.Random(7)
    alphabet = "aZ_09=$ -.\né٣x"
    cases = ["", "a", "_", "9a", "a9", "A_b_9", "if", "a-b", "é", "a\n", "x=1", "٣"]
    cases += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(6)))
              for _ in range(3000)]
    for text in cases:
        assert is_name(text) == (NAME.fullmatch(text) is not None), text
        for pos in range(len(text) + 1):
            m = NAME.match(text, pos)
            assert name_end(text, pos) == (m.end() if m else pos), (text, pos)
