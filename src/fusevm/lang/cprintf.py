"""C printf's integer conversions (%d %i %o %u %x %X), shared by awk's and sh's printf.

One formatter for both frontends: flags (`-` `+` space `#` `0`), a width and a
precision as C writes them. `gawk=True` follows gawk's two departures from C, which awk
keeps: a precision of 0 writes no digits only where the untruncated value is zero
(`nonzero` says whether it is), and `#` puts the octal 0 in front of a precision's zeros
(C only makes the first digit a 0).
"""

from __future__ import annotations

from fusevm.limits import DEFAULT_MAX_SIZE

#: The widest field and longest precision either printf writes: the VM's size limit on a
#: string (C keeps them in an int; no awk or shell writes a field of gigabytes).
MAX_FIELD = DEFAULT_MAX_SIZE


def too_wide(digits: str) -> bool:
    """Whether a width or precision written in a format (ASCII digits) is past MAX_FIELD,
    found without converting a digit string of any length."""
    significant = digits.lstrip("0")
    return len(significant) > 9 or bool(significant) and int(significant) > MAX_FIELD


def format_int(integer: int, conversion: str, flags: str, width: int | None,
               precision: int | None, nonzero: bool, gawk: bool = False) -> str:
    """`integer` by `conversion`; `nonzero`: whether the value it was read from is not 0
    (the `#` prefixes need it, and gawk's precision 0)."""
    digits = format(abs(integer), {"o": "o", "x": "x", "X": "X"}.get(conversion, "d"))
    if precision is not None:
        if precision == 0 and integer == 0 and not gawk:
            digits = ""
        else:
            digits = digits.rjust(precision, "0")
    prefix = ""
    if "#" in flags:
        if conversion == "o":
            if gawk:
                prefix = "0" if nonzero else ""
            elif not digits.startswith("0"):
                digits = "0" + digits
        elif conversion in "xX" and nonzero:
            prefix = "0" + conversion
    sign = ""
    if integer < 0:
        sign = "-"
    elif conversion in "di":
        if "+" in flags:
            sign = "+"
        elif " " in flags:
            sign = " "
    head = sign + prefix
    if width is not None and len(head) + len(digits) < width:
        if "-" in flags:
            return (head + digits).ljust(width)
        if "0" in flags and precision is None:
            return head + digits.rjust(width - len(head), "0")
        return (head + digits).rjust(width)
    return head + digits
