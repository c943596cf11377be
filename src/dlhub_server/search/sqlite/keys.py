"""The key of a version in the index: its place in time, its class, its visibility.

Every table of the index refers to a version by one integer key::

    key = class << 42 | seq << 1 | restricted

- ``seq`` numbers versions in the order they were indexed (a re-indexed version
  keeps it), so within a class, key order is newest-first order;
- ``class`` is 2 for the newest version of its servable, 1 for a version with only
  non-public newer versions (the newest for some callers), 0 for a version with a
  public newer version. "Newest versions only" is then a *range* of keys, which
  FTS5 and the value indexes bound their scans with, instead of a condition
  checked row by row;
- ``restricted`` is 1 when the version is not public, so a visibility check reads
  the access list only for those.

A version changes key when its class changes (a newer version is published or
removed): its rows move to the new key in the same transaction.
"""

from __future__ import annotations

__all__ = [
    "SEQ_LIMIT",
    "class_range",
    "make_key",
    "seq_of",
]

SEQ_LIMIT = 2**41
_CLASS_SHIFT = 42
# latest_state (0 newest, 1 newest for some, 2 superseded) -> class
_CLASS = {0: 2, 1: 1, 2: 0}


def make_key(seq: int, latest_state: int, restricted: bool) -> int:
    """The key of a version."""
    if not 0 < seq < SEQ_LIMIT:
        raise ValueError(f"version sequence number {seq} out of range")
    return (_CLASS[latest_state] << _CLASS_SHIFT) | (seq << 1) | int(restricted)


def class_range(latest_state: int) -> tuple[int, int]:
    """The keys ``[low, high)`` of the versions in a ``latest_state``."""
    klass = _CLASS[latest_state]
    return klass << _CLASS_SHIFT, (klass + 1) << _CLASS_SHIFT


def seq_of(key: int) -> int:
    """The sequence number in a key."""
    return (key >> 1) & (SEQ_LIMIT - 1)
