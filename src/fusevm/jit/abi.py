"""The native ABI shared by every tier: kind bytes, trap codes, the context struct, helpers.

Every unit is `i64 unit(JitCtx* ctx)`. It returns `Status.OK` after writing its results and
the slots it may have written into the context, or `Status.DEOPT` after writing
`ctx.trap`/`ctx.trap_ip` and the state before the op it stopped at: every slot it tracks,
and `ctx.exit_depth` operand-stack values in `results` (the caller resumes the interpreter
at that op, so nothing runs twice, D15). A DEOPT at entry, before any op, writes nothing
and sets `exit_depth` to -1. Values cross as 64-bit words plus a kind byte each
(`SlotKind`): Int as itself, Float as its IEEE bits, Bool as 0/1, Undef and "other" as 0.
Generated code reaches helpers only through `ctx.helpers[k]`, the unit's own table (k
indexes the unit's list of stable helper ids), so machine code never names an external
symbol.

`JitCtx` is declared here once; the LLVM struct type and field indices are derived from it
(`lower/builder.py`), never written by hand.
"""

from __future__ import annotations

import ctypes

from fusevm.enums import IntEnum
from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final


class SlotKind(IntEnum):
    """What a slot, global or stack word holds, as seen by native code.

    The first five are the kind bytes of the ABI. MIXED ("one of the numeric kinds, known
    only at run time") and OPAQUE ("maybe a value native code cannot represent") exist only
    inside the compiler, where paths carrying different kinds meet; such values travel as
    bits plus a kind byte and cannot be computed with.
    """

    INT = 0
    FLOAT = 1
    BOOL = 2
    UNDEF = 3
    OTHER = 4  # Str, Array, Hash, ...: left untouched by native code
    MIXED = 5
    OPAQUE = 6


#: Kind byte of a Python value (exact types only: bool is not int, D-values.py).
KIND_OF_TYPE: Final[dict[type, SlotKind]] = {
    int: SlotKind.INT, float: SlotKind.FLOAT, bool: SlotKind.BOOL,
}


class Status(IntEnum):
    """What a unit returns."""

    OK = 0
    DEOPT = 1


class TrapCode(IntEnum):
    """Why a unit deoptimised (stored in ctx.trap; the interpreter then reports the error)."""

    NONE = 0
    DIV_ZERO = 1
    MOD_ZERO = 2
    OVERFLOW = 3
    KIND_GUARD = 4
    FUEL = 5

    @property
    def message(self) -> str:
        return _TRAP_TEXT[self]


_TRAP_TEXT: Final = {
    TrapCode.NONE: "no trap",
    TrapCode.DIV_ZERO: "division by zero",
    TrapCode.MOD_ZERO: "modulo by zero",
    TrapCode.OVERFLOW: "integer overflow under strict_int",
    TrapCode.KIND_GUARD: "a slot's kind differs from the unit's entry kinds",
    TrapCode.FUEL: "the run was interrupted",
}


class JitCtx(ctypes.Structure):
    """The one context a unit receives. Buffers are owned by the unit's Python object."""

    _fields_ = [
        ("slots", ctypes.c_void_p),  # i64 words, one per slot up to the unit's highest slot
        ("slot_kinds", ctypes.c_void_p),  # u8 SlotKind per slot
        ("results", ctypes.c_void_p),  # i64 words: the operand stack left at the end
        ("result_kinds", ctypes.c_void_p),  # u8 SlotKind per result
        ("helpers", ctypes.c_void_p),  # void*[]: this unit's helper table
        ("globals", ctypes.c_void_p),  # reserved for the trace tier
        ("global_kinds", ctypes.c_void_p),  # reserved for the trace tier
        ("deopt", ctypes.c_void_p),  # reserved: DeoptInfo* of the trace tier
        ("nslots", ctypes.c_int64),
        ("nresults", ctypes.c_int64),
        ("nglobals", ctypes.c_int64),
        ("trap", ctypes.c_int64),  # TrapCode of the last DEOPT
        ("trap_ip", ctypes.c_int64),  # op index of the last DEOPT
        # i64 the unit reads once every POLL_INTERVAL back-edges (lower/emit.py), leaving
        # (FUEL) at the loop header when it is negative: the VM's interrupt() reaches
        # native loops through it (epoch-style polling).
        ("fuel", ctypes.c_void_p),
        # Operand-stack values stored in `results` by the last DEOPT, which writes the
        # state before the op it stops at (-1: it stopped at entry, nothing written).
        ("exit_depth", ctypes.c_int64),
    ]


#: Field index by name, for code that addresses the struct (derived, never hand-kept).
CTX_FIELD: Final[dict[str, int]] = {f[0]: i for i, f in enumerate(JitCtx._fields_)}

#: Bumped whenever JitCtx, SlotKind, TrapCode, Status or a helper signature changes.
ABI_VERSION: Final = 2


# -- Helpers ------------------------------------------------------------------------

class Helper(IntEnum):
    """Built-in helper ids (stable: cached code records them; never renumber)."""

    POW = 1
    FMOD = 2
    SIN = 4
    COS = 5
    EXP = 6
    ATAN2 = 7
    LOG = 9
    TAN = 10
    ASIN = 11
    ACOS = 12
    ATAN = 13
    SINH = 14
    COSH = 15
    TANH = 16
    LOG2 = 17
    LOG10 = 18
    GCD = 19
    LCM = 20


@dataclass(frozen=True, slots=True)
class HelperSig:
    """A helper's C signature: argument kinds and result kind (INT = i64, FLOAT = double)."""

    args: tuple[SlotKind, ...]
    result: SlotKind


_F: Final = SlotKind.FLOAT
_I: Final = SlotKind.INT

#: libm entry points: the C library computes these exactly as CPython's math module does
#: for every finite and non-finite input (the differential tests check it).
_LIBM: Final[dict[Helper, tuple[str, HelperSig]]] = {
    Helper.POW: ("pow", HelperSig((_F, _F), _F)),
    Helper.FMOD: ("fmod", HelperSig((_F, _F), _F)),
    Helper.SIN: ("sin", HelperSig((_F,), _F)),
    Helper.COS: ("cos", HelperSig((_F,), _F)),
    Helper.EXP: ("exp", HelperSig((_F,), _F)),
    Helper.ATAN2: ("atan2", HelperSig((_F, _F), _F)),
    Helper.LOG: ("log", HelperSig((_F,), _F)),
    Helper.TAN: ("tan", HelperSig((_F,), _F)),
    Helper.ASIN: ("asin", HelperSig((_F,), _F)),
    Helper.ACOS: ("acos", HelperSig((_F,), _F)),
    Helper.ATAN: ("atan", HelperSig((_F,), _F)),
    Helper.SINH: ("sinh", HelperSig((_F,), _F)),
    Helper.COSH: ("cosh", HelperSig((_F,), _F)),
    Helper.TANH: ("tanh", HelperSig((_F,), _F)),
    Helper.LOG2: ("log2", HelperSig((_F,), _F)),
    Helper.LOG10: ("log10", HelperSig((_F,), _F)),
}

_CALLBACK_SIGS: Final[dict[Helper, HelperSig]] = {
    Helper.GCD: HelperSig((_I, _I), _I),
    Helper.LCM: HelperSig((_I, _I), _I),
}

_CTYPE: Final[dict[SlotKind, Any]] = {SlotKind.INT: ctypes.c_int64,
                                     SlotKind.FLOAT: ctypes.c_double}


@dataclass(frozen=True, slots=True)
class HostHelper:
    """A frontend helper registered with `register_jit_helper` (id has the top bit set)."""

    name: str
    address: int
    sig: HelperSig
    keepalive: Any = None


_host_helpers: dict[int, HostHelper] = {}
_addresses: dict[int, int] = {}
_callbacks: list[Any] = []  # ctypes callback objects must outlive every unit


def helper_sig(helper_id: int) -> HelperSig:
    """The signature of a built-in or registered helper; KeyError if unknown."""
    if helper_id in _host_helpers:
        return _host_helpers[helper_id].sig
    h = Helper(helper_id)
    return _LIBM[h][1] if h in _LIBM else _CALLBACK_SIGS[h]


def _python_helper(h: Helper) -> Callable[..., int]:
    # The interpreter's own functions: the slow path never re-implements semantics.
    from fusevm.interp.handlers.math import BINARY
    from fusevm.ops import Op
    fn = BINARY[Op.GcdInt if h is Helper.GCD else Op.LcmInt]
    return fn


def helper_address(helper_id: int) -> int:
    """Resolve a helper id to a callable address (once per process)."""
    addr = _addresses.get(helper_id)
    if addr is not None:
        return addr
    if helper_id in _host_helpers:
        addr = _host_helpers[helper_id].address
    else:
        h = Helper(helper_id)
        if h in _LIBM:
            name, _ = _LIBM[h]
            addr = ctypes.cast(getattr(_libm(), name), ctypes.c_void_p).value
        else:
            sig = _CALLBACK_SIGS[h]
            proto = ctypes.CFUNCTYPE(_CTYPE[sig.result], *(_CTYPE[a] for a in sig.args))
            cb = proto(_python_helper(h))
            _callbacks.append(cb)
            addr = ctypes.cast(cb, ctypes.c_void_p).value
    if not addr:
        raise RuntimeError(f"helper {helper_id} resolved to a null address")
    _addresses[helper_id] = addr
    return addr


_libm_handle: ctypes.CDLL | None = None


def _libm() -> ctypes.CDLL:
    global _libm_handle
    if _libm_handle is None:
        lib = ctypes.CDLL(None)
        try:
            lib.fmod  # noqa: B018 - probing that libm is linked into the process
        except AttributeError:
            lib = ctypes.CDLL("libm.so.6")
        _libm_handle = lib
    return _libm_handle


def fnv1a32(text: str) -> int:
    """FNV-1a 32-bit hash of the UTF-8 bytes of `text`."""
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def register_jit_helper(name: str, address: int, n_args: int, returns_float: bool, *,
                        float_args: bool = False, keepalive: Any = None) -> int:
    """Register a frontend helper reachable from extension lowerings; returns its stable id.

    The id is `0x8000_0000 | (FNV-1a-32(name) & 0x7fff_ffff)`, the same in every process.
    `keepalive` is kept referenced for as long as the process runs (e.g. a ctypes callback).
    """
    hid = 0x8000_0000 | (fnv1a32(name) & 0x7FFF_FFFF)
    old = _host_helpers.get(hid)
    if old is not None and old.name != name:
        raise ValueError(f"helper {name!r} collides with {old.name!r} (id {hid:#x})")
    arg = SlotKind.FLOAT if float_args else SlotKind.INT
    sig = HelperSig((arg,) * n_args, SlotKind.FLOAT if returns_float else SlotKind.INT)
    _host_helpers[hid] = HostHelper(name, address, sig, keepalive)
    _addresses.pop(hid, None)
    return hid


def jit_helper_id(name: str) -> int | None:
    """The id of a registered helper by name, or None."""
    for hid, h in _host_helpers.items():
        if h.name == name:
            return hid
    return None

