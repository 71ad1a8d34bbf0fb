"""The offset map of a folded text: which span of the original each folded span came from.

Each length-changing pass of :mod:`detection.normalize` records a :class:`Layer` (a piecewise map
from its output offsets to its input offsets); a :class:`Folded` holds the folded text and its
layers, and maps a folded span back through them. A text that no pass changed in length has no
layers at all, so its map is the identity and costs nothing to build.
"""

from __future__ import annotations

from bisect import bisect_right

__all__ = ["Folded", "Layer", "apply_edits", "squeeze_runs"]


class Layer:
    """One length-changing pass: a piecewise map from its output offsets to its input offsets.

    Segment ``i`` covers output ``[outs[i], outs[i+1])`` and input ``[ins[i], ins[i+1])``. A linear
    segment maps character to character; any other maps as a block.
    """

    __slots__ = ("outs", "ins", "linear", "out_len", "in_len")

    def __init__(self, outs: list[int], ins: list[int], linear: list[bool]) -> None:
        self.outs, self.ins, self.linear = outs, ins, linear
        self.out_len, self.in_len = outs[-1], ins[-1]

    def map_start(self, p: int) -> int:
        if p >= self.out_len:
            return self.in_len
        i = bisect_right(self.outs, p, 0, len(self.outs) - 1) - 1
        return self.ins[i] + (p - self.outs[i]) if self.linear[i] else self.ins[i]

    def map_span(self, p: int, q: int) -> tuple[int, int]:
        """``(map_start(p), map_end(q))`` in one call (the scorer maps every match's span)."""
        outs, ins, linear = self.outs, self.ins, self.linear
        last = len(outs) - 1
        if p >= self.out_len:
            s = self.in_len
        else:
            i = bisect_right(outs, p, 0, last) - 1
            s = ins[i] + (p - outs[i]) if linear[i] else ins[i]
        if q <= 0:
            return s, self.map_start(0) if self.out_len else 0
        if q > self.out_len:
            q = self.out_len
        i = bisect_right(outs, q - 1, 0, last) - 1
        return s, ins[i] + (q - outs[i]) if linear[i] else ins[i + 1]

    def map_inside(self, p: int, q: int) -> tuple[int, int]:
        """``map_span(p, q)`` for ``0 <= p < q <= out_len``, which needs none of its checks."""
        outs, ins, linear = self.outs, self.ins, self.linear
        i = bisect_right(outs, p) - 1
        j = bisect_right(outs, q - 1) - 1
        return (ins[i] + (p - outs[i]) if linear[i] else ins[i],
                ins[j] + (q - outs[j]) if linear[j] else ins[j + 1])

    def map_end(self, q: int) -> int:
        if q <= 0:
            return self.map_start(0) if self.out_len else 0
        q = min(q, self.out_len)
        i = bisect_right(self.outs, q - 1, 0, len(self.outs) - 1) - 1
        return self.ins[i] + (q - self.outs[i]) if self.linear[i] else self.ins[i + 1]


def apply_edits(src: str, edits: list[tuple[int, int, str]], copy=None) -> tuple[str, Layer]:
    """Apply sorted, non-overlapping ``(start, end, replacement)`` edits to ``src``.

    ``copy`` transforms the untouched stretches (it must keep their length).
    """
    pieces: list[str] = []
    outs: list[int] = []
    ins: list[int] = []
    linear: list[bool] = []
    piece, out_at, in_at, lin = pieces.append, outs.append, ins.append, linear.append
    pos = opos = 0
    for start, end, rep in edits:
        if start > pos:
            seg = src[pos:start]
            piece(copy(seg) if copy else seg)
            out_at(opos)
            in_at(pos)
            lin(True)
            opos += start - pos
        piece(rep)
        out_at(opos)
        in_at(start)
        lin(len(rep) == end - start)
        opos += len(rep)
        pos = end
    if pos < len(src):
        seg = src[pos:]
        piece(copy(seg) if copy else seg)
        out_at(opos)
        in_at(pos)
        lin(True)
        opos += len(src) - pos
    out_at(opos)
    in_at(len(src))
    return "".join(pieces), Layer(outs, ins, linear)


def squeeze_runs(src: str, runs: list[tuple[int, int]]) -> tuple[str, Layer]:
    """``apply_edits(src, [(s, e, src[s]) for s, e in runs])`` for sorted, non-overlapping runs of
    two characters or more: each run becomes its first character (a block, never linear). Built
    directly, it skips the edit tuples and a piece per run (squeezing is in most posts)."""
    pieces: list[str] = []
    outs: list[int] = []
    ins: list[int] = []
    linear: list[bool] = []
    piece, out_at, in_at, lin = pieces.append, outs.append, ins.append, linear.append
    pos = opos = 0
    for start, end in runs:
        piece(src[pos:start + 1])  # the stretch before the run and the run's one character
        if start > pos:
            out_at(opos)
            in_at(pos)
            lin(True)
            opos += start - pos
        out_at(opos)
        in_at(start)
        lin(False)
        opos += 1
        pos = end
    if pos < len(src):
        piece(src[pos:])
        out_at(opos)
        in_at(pos)
        lin(True)
        opos += len(src) - pos
    out_at(opos)
    in_at(len(src))
    return "".join(pieces), Layer(outs, ins, linear)


class Folded:
    """A folded text and the passes that produced it from ``original`` (read-only by convention:
    a plain class, built faster than a frozen dataclass, once per text)."""

    __slots__ = ("original", "text", "layers")

    def __init__(self, original: str, text: str, layers: tuple[Layer, ...] = ()) -> None:
        self.original, self.text, self.layers = original, text, layers

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the folded span ``[start, end)`` to a span of the original text."""
        layers = self.layers
        if len(layers) == 1 and 0 <= start < end <= layers[0].out_len:
            # The common case: a match's span in a text one pass changed in length (squeezing).
            s, e = layers[0].map_inside(start, end)
            return (s, e) if e > s else (s, s)
        n = len(self.text)
        start = 0 if start < 0 else n if start > n else start  # clamp into [0, n]
        end = n if end > n else end  # and into [start, n]
        end = start if end < start else end
        if start == end:
            s = start
            for layer in reversed(layers):
                s = layer.map_start(s)
            return s, s
        s, e = start, end
        for layer in reversed(layers):
            s, e = layer.map_span(s, e)
        return (s, e) if e > s else (s, s)
