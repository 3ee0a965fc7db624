"""Shortening file names in a narrow list so that rows stay distinguishable. Qt-free.

Qt's middle elision turned three rows into "NORMAL2…01.jpeg": the part that differs between those files
(the 1427 of NORMAL2-IM-1427-0001.jpeg) sits exactly where the cut goes. Here each name is split against the
other names of the list into the prefix and suffix it shares with some other name and the core that only it
has; the core always stays, and the shared parts give way first, keeping the characters next to the core.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

ELLIPSIS = "…"


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def shared_affixes(names: Sequence[str]) -> list[tuple[int, int]]:
    """For each name, the length of the longest prefix and of the longest suffix it shares with any other name
    of the list (sorting puts the name sharing the longest prefix, or suffix, next to it)."""
    out = [[0, 0] for _ in names]
    for side in (0, 1):
        keys = [name if side == 0 else name[::-1] for name in names]
        order = sorted(range(len(names)), key=keys.__getitem__)
        for left, right in zip(order, order[1:], strict=False):
            n = _common_prefix(keys[left], keys[right])
            out[left][side] = max(out[left][side], n)
            out[right][side] = max(out[right][side], n)
    # A prefix and a suffix may overlap on short names; the core is what lies between them.
    return [(p, min(s, len(name) - p)) for name, (p, s) in zip(names, out, strict=True)]


def distinguishing_elide(text: str, prefix: int, suffix: int, fits: Callable[[str], bool],
                         elide_right: Callable[[str], str]) -> str:
    """``text`` as it fits, cut in its shared parts, never in its own core; when even the core does not fit,
    the start is kept (``elide_right``), which is where a long core begins."""
    if fits(text):
        return text
    left, core, right = text[:prefix], text[prefix:len(text) - suffix], text[len(text) - suffix:]
    for keep in range(max(len(left), len(right)), -1, -1):
        shown_left = left if len(left) <= keep else ELLIPSIS + left[len(left) - keep:]
        shown_right = right if len(right) <= keep else right[:keep] + ELLIPSIS
        candidate = shown_left + core + shown_right
        if fits(candidate):
            return candidate
    return elide_right(text)
