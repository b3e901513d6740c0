"""When the baseline tier first looks at a hot point, and the mark of a compiled chunk.

Shared by the tier's hook (`fusevm.baseline`), which answers "not yet" on its own, and the
compiler, which looks.
"""

from __future__ import annotations

from fusevm.interp import tiers

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

#: Entries of a function entry or block start before the tier first looks at its region
#: (working out what a region costs and saves takes about as long as a thousand ops).
FIRST_LOOK: Final = 1000
#: Entries of a loop header before the tier first looks at its loop: no loop that ends
#: sooner is worth even that look (`compiler.short_loop`), let alone compiling.
LOOP_FIRST_LOOK: Final = 64
#: What loading the compiler costs a process, in interpreted ops (`tiers.LOAD_COST`).
LOAD_COST: Final = tiers.LOAD_COST
#: Set in `Chunk.derived` once a region of that chunk object is compiled (the tiers' own
#: mark, `fusevm.interp.tiers.COMPILED`, which a VM reads too): code that has not been is
#: looked up by content (its digest: serializing and hashing the chunk, about 10 us) only
#: when a region is about to be compiled, not at every VM's first run. Until then, a hot
#: point waits for its first look (the hook tells it so without loading the compiler).
COMPILED: Final = tiers.COMPILED
