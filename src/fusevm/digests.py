"""BLAKE2b for chunk digests, serialized-chunk checksums, cache keys and the schema hash.

`hashlib` also loads OpenSSL's library when imported, which costs every process more than
the hashing it does here; the built-in `_blake2` module is what `hashlib.blake2b` is, so
it is used directly when this Python has it.
"""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # a build without the built-in module
    from hashlib import blake2b

__all__ = ["blake2b"]
