"""Server-drawn SVG charts (no JavaScript), each with a text alternative."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    """One bar of a year-by-year chart."""

    label: str
    done: int
    target: int | None
    x: float
    height_done: float
    height_target: float


@dataclass(frozen=True)
class YearChart:
    """Done vs target per year, as geometry for the template."""

    bars: list[Bar]
    width: int
    height: int
    maximum: int


def year_chart(
    points: list[tuple[int, int, int | None]], *, height: int = 160, slot: int = 56
) -> YearChart:
    """Bars for (year, done, target) triples."""
    maximum = max([1, *(max(done, target or 0) for _, done, target in points)])
    scale = (height - 30) / maximum
    bars = [
        Bar(
            label=str(year),
            done=done,
            target=target,
            x=10 + index * slot,
            height_done=done * scale,
            height_target=(target or 0) * scale,
        )
        for index, (year, done, target) in enumerate(points)
    ]
    return YearChart(
        bars=bars, width=20 + slot * max(len(points), 1), height=height, maximum=maximum
    )
