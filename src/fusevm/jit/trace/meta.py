"""TraceMetadata: what it takes to rebuild a trace without recording it again (JSON).

A trace is fully described by its chunk (named by content digest), the ips it recorded,
the stack depths before them and where it closes; side traces also name their parent
(the root's start and the exit ids leading to them). `kinds` are the live-in kinds it was
first compiled for, so an imported trace compiles before its first entry.
"""

from __future__ import annotations

from fusevm.jit.trace.ir import Recording
from fusevm.records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FORMAT = 1


@dataclass(frozen=True, slots=True)
class TraceMetadata:
    digest: str  # chunk digest
    source: str
    start: int  # the trace's first ip (the loop header for a root trace)
    close: int  # where it closes (== start for a root trace)
    ips: tuple[int, ...]
    depths: tuple[int, ...]
    root: int  # the loop header of the root trace (== start for a root trace)
    path: tuple[int, ...] = ()  # exit ids from the root to this side trace
    kinds: tuple[int, ...] = ()
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def recording(self) -> Recording:
        return Recording(self.start, self.ips, self.depths, self.close)

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "digest": self.digest, "source": self.source,
                "start": self.start, "close": self.close, "ips": list(self.ips),
                "depths": list(self.depths), "root": self.root, "path": list(self.path),
                "kinds": list(self.kinds), "counters": dict(self.counters)}

    @classmethod
    def from_json(cls, d: dict[str, Any] | str) -> TraceMetadata:
        """From `to_json()`'s dict (or its JSON text); ValueError when malformed."""
        if isinstance(d, str):
            import json  # (only for text: the tier's own metadata never is)
            d = json.loads(d)
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise ValueError("not trace metadata of format 1")
        try:
            ips = tuple(int(i) for i in d["ips"])
            depths = tuple(int(i) for i in d["depths"])
            meta = cls(str(d["digest"]), str(d.get("source", "")), int(d["start"]),
                       int(d["close"]), ips, depths, int(d["root"]),
                       tuple(int(i) for i in d.get("path", ())),
                       tuple(int(k) for k in d.get("kinds", ())),
                       {str(k): int(v) for k, v in dict(d.get("counters", {})).items()})
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"malformed trace metadata: {e}") from None
        if not ips or len(ips) != len(depths) or min(ips) < 0 or min(depths) < 0:
            raise ValueError("malformed trace metadata: ips and depths do not match")
        return meta
