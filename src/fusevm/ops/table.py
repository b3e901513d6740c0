"""THE op table: every core op declared once, as data.

Numbers are stable: they are written into serialized chunks and JIT cache keys. Never
renumber or reuse one; add new ops at unused numbers. `tests/ops/opcodes.snapshot` pins
(number, mnemonic, operand kinds) so any change here is a visible, reviewed diff.

Row: O(number, mnemonic, operands, stack effect, formula, flags, fuses=...).
Stack effects use `inputs -- outputs` with the top of stack on the right; `args[n]` is a
run of values sized by operand n. Formulas use: push/pop, slots[s], globals[n], consts[k],
ip, and the coercions of `fusevm.values` (int(), num(), str(), truthy()).
"""

from __future__ import annotations

from fusevm.ops.spec import F, OpSpec, make_spec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

#: Each row as declared: (number, name, operands, effect, formula, flags, section, fuses).
#: The `OpSpec` of a row is built when it is first asked for (`spec`): a short run asks
#: for a few of them, and building all of them would cost a tenth of a command's start-up.
_rows: list[tuple[int, str, str, str, str, F, str, str | None]] = []
_section = ""


def section(name: str) -> None:
    global _section
    _section = name


def O(number: int, name: str, operands: str, effect: str, formula: str,
      flags: F = F.NONE, *, fuses: str | None = None) -> None:
    _rows.append((number, name, operands, effect, formula, flags, _section, fuses))


P = F.PURE
R = F.MAY_RAISE

# -- Nop ----------------------------------------------------------------------
section("Nop")
O(0x00, "Nop", "", "--", "nothing", P)

# -- Constants ----------------------------------------------------------------
section("Constants")
O(0x01, "LoadInt", "value:INT", "-- n", "push value", P)
O(0x02, "LoadFloat", "value:FLOAT", "-- f", "push value (stays Float when integral)", P)
O(0x03, "LoadConst", "const:CONST", "-- v", "push copy(consts[const])", P)
O(0x04, "LoadTrue", "", "-- b", "push true", P)
O(0x05, "LoadFalse", "", "-- b", "push false", P)
O(0x06, "LoadUndef", "", "-- u", "push undef", P)

# -- Stack --------------------------------------------------------------------
section("Stack")
O(0x08, "Pop", "", "a --", "discard a", P)
O(0x09, "Dup", "", "a -- a a2", "push copy(a)", P)
O(0x0A, "Dup2", "", "a b -- a b a2 b2", "push copy(a), copy(b)", P)
O(0x0B, "Swap", "", "a b -- b2 a2", "exchange the top two", P)
O(0x0C, "Rot", "", "a b c -- b2 c2 a2", "move the third from the top to the top", P)

# -- Variables ----------------------------------------------------------------
section("Variables")
O(0x10, "GetVar", "name:NAME", "-- v", "push copy(globals[name])")
O(0x11, "SetVar", "name:NAME", "v --", "globals[name] = v")
O(0x12, "DeclareVar", "name:NAME", "v --", "globals[name] = v (no scope: same as SetVar)")
O(0x13, "GetSlot", "slot:SLOT", "-- v", "push copy(slots[slot])")
O(0x14, "SetSlot", "slot:SLOT", "v --", "slots[slot] = v")
O(0x15, "SlotArrayGet", "slot:SLOT", "index -- v",
  "v = slots[slot][int(index)] or undef when out of range", R)
O(0x16, "SlotArraySet", "slot:SLOT", "v index --",
  "slots[slot][int(index)] = v, growing with undef", R)

# -- Arrays -------------------------------------------------------------------
section("Arrays")
O(0x18, "GetArray", "name:NAME", "-- arr", "push copy(globals[name])")
O(0x19, "SetArray", "name:NAME", "arr --", "globals[name] = arr")
O(0x1A, "DeclareArray", "name:NAME", "--", "globals[name] = []")
O(0x1B, "ArrayGet", "name:NAME", "index -- v",
  "v = globals[name][int(index)] or undef when out of range", R)
O(0x1C, "ArraySet", "name:NAME", "v index --",
  "globals[name][int(index)] = v, growing with undef", R)
O(0x1D, "ArrayPush", "name:NAME", "v --", "globals[name].append(v)", R)
O(0x1E, "ArrayPop", "name:NAME", "-- v", "v = globals[name].pop() or undef when empty", R)
O(0x1F, "ArrayShift", "name:NAME", "-- v", "v = globals[name].pop(0) or undef when empty", R)
O(0x20, "ArrayLen", "name:NAME", "-- n", "n = len(globals[name])", R)
O(0x21, "MakeArray", "count:COUNT", "items[count] -- arr", "arr = [items...] in push order", P)

# -- Hashes -------------------------------------------------------------------
section("Hashes")
O(0x28, "GetHash", "name:NAME", "-- h", "push copy(globals[name])")
O(0x29, "SetHash", "name:NAME", "h --", "globals[name] = h")
O(0x2A, "DeclareHash", "name:NAME", "--", "globals[name] = {}")
O(0x2B, "HashGet", "name:NAME", "key -- v", "v = globals[name][str(key)] or undef", R)
O(0x2C, "HashSet", "name:NAME", "v key --", "globals[name][str(key)] = v", R)
O(0x2D, "HashDelete", "name:NAME", "key -- v",
  "v = globals[name].pop(str(key)) or undef", R)
O(0x2E, "HashExists", "name:NAME", "key -- b", "b = str(key) in globals[name]", R)
O(0x2F, "HashKeys", "name:NAME", "-- keys", "keys = list(globals[name]) in insertion order", R)
O(0x30, "HashValues", "name:NAME", "-- vals", "vals = copies of the values, key order", R)
O(0x31, "MakeHash", "count:COUNT", "items[count] -- h",
  "h = {str(k): v} from (k, v) pairs in push order; an odd last key is dropped", P)

# -- Arithmetic ---------------------------------------------------------------
section("Arithmetic")
O(0x38, "Add", "", "a b -- r", "r = a + b (Int wraps; else Float)", R)
O(0x39, "Sub", "", "a b -- r", "r = a - b (Int wraps; else Float)", R)
O(0x3A, "Mul", "", "a b -- r", "r = a * b (Int wraps; else Float)", R)
O(0x3B, "Div", "", "a b -- r", "r = float(a) / float(b), always Float; error when b is 0", R)
O(0x3C, "Mod", "", "a b -- r",
  "r = a rem b (Int: sign of a; else fmod, NaN when b is 0.0); error when b is Int 0", R)
O(0x3D, "Pow", "", "a b -- r", "r = ieee_pow(float(a), float(b)), always Float", P)
O(0x3E, "Negate", "", "a -- r", "r = -a (Int wraps; non-numbers become Float)", R)
O(0x3F, "Inc", "", "a -- r", "r = int(a) + 1, always Int", R)
O(0x40, "Dec", "", "a -- r", "r = int(a) - 1, always Int", R)

# -- String -------------------------------------------------------------------
section("String")
O(0x44, "Concat", "", "a b -- s", "s = str(a) + str(b)", P)
O(0x45, "StringRepeat", "", "s count -- r", "r = str(s) * max(int(count), 0)", R)
O(0x46, "StringLen", "", "v -- n", "n = code points of str(v); element count of Array/Hash", P)

# -- Comparison ---------------------------------------------------------------
section("Comparison")
O(0x48, "NumEq", "", "a b -- r", "r = num(a) == num(b)", P)
O(0x49, "NumNe", "", "a b -- r", "r = num(a) != num(b)", P)
O(0x4A, "NumLt", "", "a b -- r", "r = num(a) < num(b)", P)
O(0x4B, "NumGt", "", "a b -- r", "r = num(a) > num(b)", P)
O(0x4C, "NumLe", "", "a b -- r", "r = num(a) <= num(b)", P)
O(0x4D, "NumGe", "", "a b -- r", "r = num(a) >= num(b)", P)
O(0x4E, "Spaceship", "", "a b -- r", "r = -1, 0 or 1 comparing num(a) with num(b); NaN gives 0", P)
O(0x50, "StrEq", "", "a b -- r", "r = str(a) == str(b)", P)
O(0x51, "StrNe", "", "a b -- r", "r = str(a) != str(b)", P)
O(0x52, "StrLt", "", "a b -- r", "r = str(a) < str(b)", P)
O(0x53, "StrGt", "", "a b -- r", "r = str(a) > str(b)", P)
O(0x54, "StrLe", "", "a b -- r", "r = str(a) <= str(b)", P)
O(0x55, "StrGe", "", "a b -- r", "r = str(a) >= str(b)", P)
O(0x56, "StrCmp", "", "a b -- r", "r = -1, 0 or 1 comparing str(a) with str(b)", P)

# -- Logical / Bitwise --------------------------------------------------------
section("Logical / Bitwise")
O(0x58, "LogNot", "", "a -- r", "r = not truthy(a)", P)
O(0x59, "LogAnd", "", "a b -- r", "r = truthy(a) and truthy(b), a Bool", P)
O(0x5A, "LogOr", "", "a b -- r", "r = truthy(a) or truthy(b), a Bool", P)
O(0x5B, "BitAnd", "", "a b -- r", "r = int(a) & int(b)", P)
O(0x5C, "BitOr", "", "a b -- r", "r = int(a) | int(b)", P)
O(0x5D, "BitXor", "", "a b -- r", "r = int(a) ^ int(b)", P)
O(0x5E, "BitNot", "", "a -- r", "r = ~int(a)", P)
O(0x5F, "Shl", "", "a b -- r", "r = wrap(int(a) << (int(b) & 63))", R)
O(0x60, "Shr", "", "a b -- r", "r = int(a) >> (int(b) & 63), arithmetic", P)

# -- Control flow -------------------------------------------------------------
section("Control flow")
O(0x68, "Jump", "target:TARGET", "--", "ip = target", F.BRANCH | F.TERMINATOR)
O(0x69, "JumpIfTrue", "target:TARGET", "cond --", "if truthy(cond): ip = target", F.BRANCH)
O(0x6A, "JumpIfFalse", "target:TARGET", "cond --", "if not truthy(cond): ip = target",
  F.BRANCH)
O(0x6B, "JumpIfTrueKeep", "target:TARGET", "cond -- cond",
  "if truthy(cond): ip = target; cond stays", F.BRANCH)
O(0x6C, "JumpIfFalseKeep", "target:TARGET", "cond -- cond",
  "if not truthy(cond): ip = target; cond stays", F.BRANCH)

# -- Functions ----------------------------------------------------------------
section("Functions")
O(0x70, "Call", "name:NAME argc:U8", "args[argc] -- result",
  "enter function name with argc args on the stack; result is what it returns",
  F.CALL | R | F.HOT_COUNTER)
O(0x71, "Return", "", "--", "leave the function, dropping its stack; halt at the root",
  F.RETURN | F.TERMINATOR)
O(0x72, "ReturnValue", "", "value --", "leave the function and push value to the caller; "
  "halt with value at the root", F.RETURN | F.TERMINATOR)

# -- Scope --------------------------------------------------------------------
section("Scope")
O(0x74, "PushFrame", "", "--", "enter a scope with fresh empty slots", F.SCOPE)
O(0x75, "PopFrame", "", "--", "leave the scope, truncating the stack to its entry depth",
  F.SCOPE | R)

# -- I/O ----------------------------------------------------------------------
section("I/O")
O(0x78, "Print", "count:U8", "items[count] --", "write str(item) for each, in push order",
  F.IO)
O(0x79, "PrintLn", "count:U8", "items[count] --", "write str(item) for each, then a newline",
  F.IO)
O(0x7A, "ReadLine", "", "-- line", "line = next stdin line without its newline; undef at EOF",
  F.IO)

# -- Collections --------------------------------------------------------------
section("Collections")
O(0x7C, "Range", "", "start stop -- arr", "arr = [int(start) .. int(stop)] inclusive", R)
O(0x7D, "RangeStep", "", "start stop step -- arr",
  "arr = int(start), +int(step), ... while not past int(stop); [] when step is 0", R)

# -- Higher-order -------------------------------------------------------------
section("Higher-order")
O(0x80, "MapBlock", "block:BLOCK", "list -- result",
  "result = [block(x) for x in list]", F.BLOCK_CALL | R)
O(0x81, "GrepBlock", "block:BLOCK", "list -- result",
  "result = [x for x in list if truthy(block(x))]", F.BLOCK_CALL | R)
O(0x82, "SortBlock", "block:BLOCK", "list -- result",
  "result = stable sort of list by int(block(a, b))", F.BLOCK_CALL | R)
O(0x83, "SortDefault", "", "list -- result", "result = stable sort of list by str()", P)
O(0x84, "ForEachBlock", "block:BLOCK", "list --", "block(x) for x in list",
  F.BLOCK_CALL | R)

# -- Fused superinstructions --------------------------------------------------
section("Fused")
_LOOP = "GetSlot $i; LoadInt $limit; NumLt; JumpIfFalse @end"
O(0x88, "PreIncSlot", "slot:SLOT", "-- v", "slots[slot] = int(slots[slot]) + 1; push it",
  F.FUSED | R, fuses="GetSlot $slot; Inc; Dup; SetSlot $slot")
O(0x89, "SlotLtIntJumpIfFalse", "slot:SLOT limit:I32 target:TARGET", "--",
  "if not num(slots[slot]) < limit: ip = target", F.FUSED | F.BRANCH,
  fuses="GetSlot $slot; LoadInt $limit; NumLt; JumpIfFalse $target")
O(0x8A, "SlotIncLtIntJumpBack", "slot:SLOT limit:I32 target:TARGET", "--",
  "slots[slot] = int(slots[slot]) + 1; if it < limit: ip = target",
  F.FUSED | F.BRANCH | R | F.HOT_COUNTER,
  fuses="GetSlot $slot; Inc; Dup; SetSlot $slot; LoadInt $limit; NumLt; JumpIfTrue $target")
O(0x8B, "AccumSumLoop", "sum:SLOT i:SLOT limit:I32", "--",
  "while num(slots[i]) < limit: slots[sum] += slots[i]; slots[i] += 1",
  F.FUSED | R,
  fuses=f"@top: {_LOOP}; GetSlot $sum; GetSlot $i; Add; SetSlot $sum; "
        "GetSlot $i; Inc; SetSlot $i; Jump @top; @end:")
O(0x8C, "ConcatConstLoop", "const:CONST s:SLOT i:SLOT limit:I32", "--",
  "while num(slots[i]) < limit: slots[s] = str(slots[s]) + str(consts[const]); slots[i] += 1",
  F.FUSED | R,
  fuses=f"@top: {_LOOP}; GetSlot $s; LoadConst $const; Concat; SetSlot $s; "
        "GetSlot $i; Inc; SetSlot $i; Jump @top; @end:")
O(0x8D, "PushIntRangeLoop", "name:NAME i:SLOT limit:I32", "--",
  "while num(slots[i]) < limit: globals[name].append(slots[i]); slots[i] += 1",
  F.FUSED | R,
  fuses=f"@top: {_LOOP}; GetSlot $i; ArrayPush $name; "
        "GetSlot $i; Inc; SetSlot $i; Jump @top; @end:")
O(0x8E, "AddAssignSlotVoid", "a:SLOT b:SLOT", "--", "slots[a] = slots[a] + slots[b]",
  F.FUSED | R, fuses="GetSlot $a; GetSlot $b; Add; SetSlot $a")
O(0x8F, "PreIncSlotVoid", "slot:SLOT", "--", "slots[slot] = int(slots[slot]) + 1",
  F.FUSED | R, fuses="GetSlot $slot; Inc; SetSlot $slot")
O(0x90, "PreDecSlot", "slot:SLOT", "-- v", "slots[slot] = int(slots[slot]) - 1; push it",
  F.FUSED | R, fuses="GetSlot $slot; Dec; Dup; SetSlot $slot")
O(0x91, "PostIncSlot", "slot:SLOT", "-- old", "push slots[slot]; slots[slot] = int(it) + 1",
  F.FUSED | R, fuses="GetSlot $slot; Dup; Inc; SetSlot $slot")
O(0x92, "PostDecSlot", "slot:SLOT", "-- old", "push slots[slot]; slots[slot] = int(it) - 1",
  F.FUSED | R, fuses="GetSlot $slot; Dup; Dec; SetSlot $slot")

# -- Builtins -----------------------------------------------------------------
section("Builtins")
O(0x98, "CallBuiltin", "builtin:BUILTIN argc:U8", "args[argc] -- result",
  "result = builtins[builtin](vm, *args)", R)

# -- Extension point ----------------------------------------------------------
section("Extension point")
O(0x9C, "Extended", "ext:EXT_ID arg:U8", "--",
  "run the extension op ext with its inline operand (effect declared by the extension)",
  F.EXTENDED | R)
O(0x9D, "ExtendedWide", "ext:EXT_ID payload:PAYLOAD", "--",
  "run the extension op ext with its packed operands (effect declared by the extension)",
  F.EXTENDED | R)

# -- Shell --------------------------------------------------------------------
section("Shell")
SH = F.SHELL | R
O(0xA0, "Exec", "argc:U8", "args[argc] -- status", "status = run argv(args) and wait",
  SH | F.SPAWN)
O(0xA1, "ExecBg", "argc:U8", "args[argc] -- status",
  "start argv(args) in the background; status 0", SH | F.SPAWN)
O(0xA2, "PipelineBegin", "stages:U8", "--", "open a pipeline of stages commands", SH)
O(0xA3, "PipelineStage", "", "--", "move to the next pipeline stage", SH)
O(0xA4, "PipelineEnd", "", "-- status", "wait for the pipeline; $? = status", SH)
O(0xA5, "Redirect", "fd:FD kind:REDIR", "target --",
  "queue redirect of fd to str(target) for the next command", SH)
O(0xA6, "HereDoc", "const:CONST", "--", "stdin of the next command = str(consts[const])", SH)
O(0xA7, "HereString", "", "text --", "stdin of the next command = str(text) + newline", SH)
O(0xA8, "CmdSubst", "sub:SUB", "-- output",
  "output = stdout of sub_chunks[sub], trailing newlines stripped", SH)
O(0xA9, "SubshellBegin", "", "--", "snapshot the shell state", SH)
O(0xAA, "SubshellEnd", "", "--", "restore the shell state; $? = the subshell's exit status", SH)
O(0xAB, "ProcessSubIn", "sub:SUB", "-- path", "path reads the stdout of sub_chunks[sub]",
  SH | F.SPAWN)
O(0xAC, "ProcessSubOut", "sub:SUB", "-- path", "path writes the stdin of sub_chunks[sub]",
  SH | F.SPAWN)
O(0xAD, "Glob", "", "pattern -- matches", "matches = sorted paths matching str(pattern)",
  SH | F.FS_READ)
O(0xAE, "GlobRecursive", "", "pattern -- matches",
  "matches = sorted paths matching str(pattern), ** walked in parallel", SH | F.FS_READ)
O(0xAF, "TestFile", "test:FILETEST", "path -- result", "result = test -X str(path)",
  SH | F.FS_READ)
O(0xB0, "SetStatus", "", "status --", "$? = int(status) wrapped to i32")
O(0xB1, "GetStatus", "", "-- status", "status = Status($?)")
O(0xB2, "TrapSet", "sub:SUB", "signal --", "run sub_chunks[sub] when str(signal) arrives", SH)
O(0xB3, "TrapCheck", "", "--", "run the handlers of signals that arrived", SH)
O(0xB4, "ExpandParam", "mod:PARAMMOD", "name args[mod] -- result",
  "result = ${name<mod>args}", SH)
O(0xB5, "WordSplit", "", "s -- words", "words = IFS field split of str(s)", SH)
O(0xB6, "BraceExpand", "", "s -- words", "words = brace expansion of str(s)", SH)
O(0xB7, "TildeExpand", "", "s -- r", "r = tilde expansion of str(s)", SH)
O(0xB8, "CallFunction", "name:NAME argc:U8", "args[argc] -- status",
  "status = shell function, builtin or command names[name] run with args", SH | F.SPAWN)
O(0xB9, "StrMatch", "", "s pattern -- r", "r = str(s) matches glob str(pattern)", SH)
O(0xBA, "RegexMatch", "", "s regex -- r", "r = str(s) matches ERE str(regex) somewhere", SH)
O(0xBB, "WithRedirectsBegin", "count:U8", "--",
  "apply the last count queued redirects to the enclosed commands", SH)
O(0xBC, "WithRedirectsEnd", "", "--", "undo the innermost WithRedirectsBegin", SH)

# -- Math ---------------------------------------------------------------------
section("Math")
O(0xC0, "PowFloat", "", "a b -- r", "r = ieee_pow(float(a), float(b))", P)
O(0xC1, "SqrtFloat", "", "a -- r", "r = sqrt(float(a)); NaN below 0", P)
O(0xC2, "SinFloat", "", "a -- r", "r = sin(float(a))", P)
O(0xC3, "CosFloat", "", "a -- r", "r = cos(float(a))", P)
O(0xC4, "ExpFloat", "", "a -- r", "r = exp(float(a)); inf on overflow", P)
O(0xC5, "Atan2Float", "", "y x -- r", "r = atan2(float(y), float(x))", P)
O(0xC6, "LogFloat", "", "a -- r", "r = ln(float(a)); -inf at 0, NaN below", P)
O(0xC7, "AbsFloat", "", "a -- r", "r = abs(float(a))", P)
O(0xC8, "TruncInt", "", "a -- r", "r = int(a)", P)
O(0xC9, "CeilFloat", "", "a -- r", "r = ceil(float(a)) as Float", P)
O(0xCA, "FloorFloat", "", "a -- r", "r = floor(float(a)) as Float", P)
O(0xCB, "TruncFloat", "", "a -- r", "r = trunc(float(a)) as Float", P)
O(0xCC, "RoundFloat", "", "a -- r", "r = round half to even of float(a), as Float", P)
O(0xCD, "TanFloat", "", "a -- r", "r = tan(float(a))", P)
O(0xCE, "AsinFloat", "", "a -- r", "r = asin(float(a)); NaN outside [-1, 1]", P)
O(0xCF, "AcosFloat", "", "a -- r", "r = acos(float(a)); NaN outside [-1, 1]", P)
O(0xD0, "AtanFloat", "", "a -- r", "r = atan(float(a))", P)
O(0xD1, "SinhFloat", "", "a -- r", "r = sinh(float(a)); inf on overflow", P)
O(0xD2, "CoshFloat", "", "a -- r", "r = cosh(float(a)); inf on overflow", P)
O(0xD3, "TanhFloat", "", "a -- r", "r = tanh(float(a))", P)
O(0xD4, "Log2Float", "", "a -- r", "r = log2(float(a)); -inf at 0, NaN below", P)
O(0xD5, "Log10Float", "", "a -- r", "r = log10(float(a)); -inf at 0, NaN below", P)
O(0xD6, "AbsInt", "", "a -- r", "r = wrap(abs(int(a)))", R)
O(0xD7, "GcdInt", "", "a b -- r", "r = wrap(gcd(|int(a)|, |int(b)|))", P)
O(0xD8, "LcmInt", "", "a b -- r", "r = lcm(|int(a)|, |int(b)|), saturating at INT_MAX", P)
O(0xD9, "TimeInt", "", "-- t", "t = Unix time in whole seconds")

#: Every row as declared, in table order (what `ROWS` is built from).
DECLARED: Final = tuple(_rows)

_SPECS: dict[int, OpSpec] = {}


def spec(number: int) -> OpSpec:
    """The checked `OpSpec` of the row numbered `number` (KeyError for none), built once."""
    found = _SPECS.get(number)
    if found is None:
        n, name, operands, effect, formula, flags, sec, fuses = _BY_NUMBER[number]
        found = _SPECS[n] = make_spec(n, name, operands, effect, formula, flags,
                                      section=sec, fuses=fuses)
    return found


_BY_NUMBER: Final = {row[0]: row for row in DECLARED}

if TYPE_CHECKING:
    #: Every core op's `OpSpec`, in table order.
    ROWS: tuple[OpSpec, ...]


def __getattr__(name: str) -> object:
    # `ROWS` builds every row's spec: asked for by tests and tools, not by a short run.
    if name == "ROWS":
        rows = tuple(spec(row[0]) for row in DECLARED)
        globals()["ROWS"] = rows
        return rows
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
