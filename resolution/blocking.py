"""Blocking: which pairs of records are compared at all (never all n² of them).

Every record gets a handful of blocking keys; two records are a candidate pair when they share
a key and are of the same kind (companies with companies, persons with persons):

- each identifier value (tax id, registration number, passport, ...);
- the name: its words' phonetic keys in sorted order ("Akme Trading" = "Acme Trading"); each
  "all words but one, and the initial of the one left out" (with the country for companies),
  so a typo that changes a word's sound still meets the right name; for persons also each
  word's phonetic key with the birth date, and the birth date with each initial;
- each shared contact value: address, phone, e-mail, account.

A key shared by more records than its type's limit (``max_block_size``, or a smaller limit
per key type: a person's name alone, a country's name words) is split by the records' name
initials; a part still larger is skipped and counted, so no key can make n² pairs. A
formation agent's address shared by a thousand shells makes no pairs unless their names
begin alike.

Keys are hashed to 64-bit integers and grouped with numpy, so memory is a few arrays rather
than a dictionary of strings per key; only the pairs are materialised, as ``i * n + j`` codes.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import numpy.typing as npt

from resolution.config import Blocking
from resolution.features import COMPANY, Record
from resolution.normalize import phonetic

Codes = npt.NDArray[np.int64]
_CHUNK_PAIRS = 4_000_000


def name_keys(record: Record) -> list[str]:
    """The name keys of a record (see the module docstring)."""
    sounds = [phonetic(t) for t in record.tokens]
    if not sounds:
        return []
    keys = [f"n|{' '.join(sorted(sounds))}"]
    # All words but one, plus the initial of the one left out (typos keep a word's first
    # letter): a typo that changes a word's sound still meets the right name.
    dropped = [
        f"{' '.join(sorted(sounds[:i] + sounds[i + 1 :]))}|{record.tokens[i][0]}"
        for i in range(len(sounds))
    ]
    if record.kind == COMPANY:
        if len(sounds) >= 2:
            keys.extend(f"d|{record.country or '-'}|{d}" for d in dropped)
        return keys
    if len(sounds) >= 3:
        keys.extend(f"d|{d}" for d in dropped)
    if record.date:
        for sound in sounds:
            keys.append(f"td|{sound}|{record.date}")
        for token in record.tokens:
            keys.append(f"di|{record.date}|{token[0]}")
    return keys


def blocking_keys(record: Record, config: Blocking) -> list[str]:
    """Every blocking key of a record, ``kind|type|value``, without repeats."""
    keys = [f"id|{i.value}" for i in record.ids if len(i.value) >= config.min_identifier_length]
    keys.extend(name_keys(record))
    keys.extend(f"a|{a}" for a in record.addresses)
    keys.extend(f"p|{p}" for p in record.phones)
    keys.extend(f"e|{e}" for e in record.emails)
    keys.extend(f"b|{b}" for b in record.accounts)
    return sorted({f"{record.kind}|{k}" for k in keys})


def key_type(key: str) -> str:
    """``company|n`` for ``company|n|AKM TRTNK``."""
    kind, _, rest = key.partition("|")
    return f"{kind}|{rest.partition('|')[0]}"


def subkey(record: Record) -> str:
    """How an oversized block is split: the record's name initials, sorted."""
    return "".join(sorted({t[0] for t in record.tokens}))


@dataclass
class Candidates:
    """The candidate pairs of a run, as sorted unique codes ``i * n + j`` (i < j)."""

    n: int
    codes: Codes
    keys: int = 0
    blocks: int = 0
    oversized: int = 0
    skipped: int = 0
    skipped_keys: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.codes)

    def pairs(self) -> tuple[Codes, Codes]:
        return self.codes // self.n, self.codes % self.n


def candidates(
    records: Sequence[Record],
    config: Blocking,
    *,
    dirty: npt.NDArray[np.bool_] | None = None,
) -> Candidates:
    """Candidate pairs among ``records``; with ``dirty``, only pairs with a dirty member."""
    n = len(records)
    result = Candidates(n=n, codes=np.empty(0, dtype=np.int64))
    if dirty is not None and not dirty.any():
        return result  # nothing new or changed: nothing to compare
    by_type: dict[str, tuple[array[int], array[int]]] = {}
    for i, record in enumerate(records):
        for key in blocking_keys(record, config):
            hashes, owners = by_type.setdefault(key_type(key), (array("q"), array("q")))
            hashes.append(hash(key))
            owners.append(i)
    chunks: list[Codes] = []
    for kind_type, (hashes, owners) in sorted(by_type.items()):
        result.keys += len(hashes)
        if n >= 2:
            chunks.extend(
                _type_pairs(
                    records,
                    hashes,
                    owners,
                    cap=config.limit(kind_type),
                    dirty=dirty,
                    result=result,
                )
            )
    result.codes = np.unique(np.concatenate(chunks)) if chunks else result.codes
    return result


def _type_pairs(
    records: Sequence[Record],
    hashes: array[int],
    owners: array[int],
    *,
    cap: int,
    dirty: npt.NDArray[np.bool_] | None,
    result: Candidates,
) -> list[Codes]:
    """The pairs of one key type: group equal hashes, pair small groups, split big ones."""
    n = len(records)
    unsorted_h = np.frombuffer(hashes, dtype=np.int64)
    unsorted_o = np.frombuffer(owners, dtype=np.int64)
    order = np.lexsort((unsorted_o, unsorted_h))
    h, o = unsorted_h[order], unsorted_o[order]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    sizes = np.diff(np.r_[starts, len(h)])
    multi = sizes >= 2
    starts, sizes = starts[multi], sizes[multi]
    result.blocks += len(starts)
    if dirty is not None:
        # A block matters only when it holds a dirty record.
        flags = dirty[o].astype(np.int64)
        cum = np.r_[0, np.cumsum(flags)]
        touched = (cum[starts + sizes] - cum[starts]) > 0
        starts, sizes = starts[touched], sizes[touched]
    big = sizes > cap
    chunks = _small_block_pairs(o, starts[~big], sizes[~big], n, dirty)
    for start, size in zip(starts[big].tolist(), sizes[big].tolist(), strict=True):
        result.oversized += 1
        members = o[start : start + size].tolist()
        codes, skipped = _sub_block_pairs(members, records, cap, n, dirty)
        if skipped:
            result.skipped += 1
            if len(result.skipped_keys) < 20:
                result.skipped_keys.append(_describe(records, members))
        if codes:
            chunks.append(np.array(codes, dtype=np.int64))
    return chunks


def _describe(records: Sequence[Record], members: list[int]) -> str:
    shared = set.intersection(*(set(blocking_keys(records[i], Blocking())) for i in members[:50]))
    return f"{len(members)} records share {sorted(shared)[:1] or ['?']}"


def _small_block_pairs(
    owners: Codes,
    starts: Codes,
    sizes: Codes,
    n: int,
    dirty: npt.NDArray[np.bool_] | None,
) -> list[Codes]:
    """All pairs inside blocks of at most the maximum size, vectorised in chunks."""
    out: list[Codes] = []
    if len(starts) == 0:
        return out
    per_block = sizes * (sizes - 1) // 2
    bounds = np.r_[0, np.cumsum(per_block)]
    first = 0
    while first < len(starts):
        last = int(np.searchsorted(bounds, bounds[first] + _CHUNK_PAIRS, side="right")) - 1
        last = max(last, first + 1)
        st, sz = starts[first:last], sizes[first:last]
        # Each member p of a block pairs with the members after it in that block.
        member_pos = np.repeat(st, sz) + _ranks(sz)
        block_end = np.repeat(st + sz, sz)
        follow = block_end - member_pos - 1
        left = np.repeat(member_pos, follow)
        right = left + 1 + _ranks(follow)
        i, j = owners[left], owners[right]
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        keep = lo != hi
        if dirty is not None:
            keep &= dirty[lo] | dirty[hi]
        out.append(lo[keep] * n + hi[keep])
        first = last
    return out


def _ranks(counts: Codes) -> Codes:
    """0..c-1 for each count c, concatenated."""
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - offsets


def _sub_block_pairs(
    members: list[int],
    records: Sequence[Record],
    cap: int,
    n: int,
    dirty: npt.NDArray[np.bool_] | None,
) -> tuple[list[int], bool]:
    parts: dict[str, list[int]] = defaultdict(list)
    for i in members:
        parts[subkey(records[i])].append(i)
    codes: list[int] = []
    skipped = False
    for part in parts.values():
        if len(part) > cap:
            skipped = True
            continue
        for i, j in combinations(sorted(part), 2):
            if dirty is None or dirty[i] or dirty[j]:
                codes.append(i * n + j)
    return codes, skipped
