"""What a check prints, so that it reads the same on every machine.

A from-scratch result and PyTorch's agree "up to rounding", and how far the
rounding goes depends on the CPU: the largest difference is 2.4e-07 on one
machine and 4.8e-07 on another. A chapter prints the bound the difference meets
instead, and the check fails if it does not:

    print("largest difference", utils.below(difference, 1e-6))   # -> largest difference < 1e-6
"""

from __future__ import annotations

import json
import math
import numbers
import re
from pathlib import Path


def _short(bound: float) -> str:
    """1e-06 -> '1e-6', 5e-07 -> '5e-7', 0.001 -> '1e-3'."""
    mantissa, _, exponent = f"{bound:.0e}".partition("e")
    return f"{mantissa}e{int(exponent)}"


def below(value, bound: float) -> str:
    """'< bound' if ``value`` (a float, or a one-element tensor or array) is below
    ``bound``; otherwise an AssertionError that gives the value.

    The returned text holds the bound, not the value, so it is the same on every
    machine where the check passes.
    """
    if (isinstance(bound, bool) or not isinstance(bound, numbers.Real)
            or not math.isfinite(bound) or bound <= 0):
        raise ValueError(f"bound must be a positive finite number such as 1e-6, got {bound!r}.")
    try:
        if isinstance(value, (str, bytes)):
            raise TypeError
        number = float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"value must be a number (or a one-element tensor or array), got "
                        f"{type(value).__name__}; take e.g. (a - b).abs().max().") from None
    if not number < bound:            # NaN fails too
        raise AssertionError(f"{number:.3g} is not below {_short(bound)}")
    return f"< {_short(bound)}"


SPREAD = Path(__file__).resolve().parent.parent / "benchmarks" / "spread"


def seed_outputs(chapter: str, spread: Path | None = None) -> dict[int, list[str]]:
    """What ``chapter`` printed when ``make spread`` ran it from other seeds.

    ``make spread NB=chapters/CHAPTER.ipynb`` re-executes a chapter with every seed
    given to ``set_seed`` moved by 1, 2 and 3, and records in
    benchmarks/spread/seed-K.json the text of every compared cell that came out
    differently. Returns {K: [those texts]}, K ascending; a chapter reads its own
    results off them to show a comparison over seeds without training again.
    Empty where the book's repository is not at hand (an installed package, Colab).
    """
    folder = SPREAD if spread is None else Path(spread)
    if not isinstance(chapter, str) or not re.fullmatch(r"\d\d_\w+", chapter):
        raise ValueError(f"chapter must be a chapter's file name without .ipynb, such as "
                         f"'04_rnn_scratch', got {chapter!r}.")
    found = {}
    for path in sorted(folder.glob("seed-*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        cells = record.get("chapters", {}).get(chapter)
        if cells is not None:
            found[int(record["seed_offset"])] = [cell["new"] for cell in cells["cells"].values()
                                                 if "new" in cell]
    return dict(sorted(found.items()))


def seed_values(chapter: str, *patterns: str,
                spread: Path | None = None) -> dict[int, tuple[float, ...]]:
    """The numbers that ``patterns`` capture in what ``chapter`` printed from other seeds.

    Each pattern is a regular expression with one group around a number, such as
    ``r"validation perplexity ([\\d.]+)"``. For every seed offset K of
    ``seed_outputs(chapter)``, each pattern is searched in the printed texts in turn
    and its first match counts. Returns {K: (one float per pattern)}, K ascending,
    for the offsets where every pattern matched (a record made before the cell
    printed that text has no match, and is left out).
    """
    if not patterns:
        raise ValueError("give at least one pattern, such as r'perplexity ([\\d.]+)'.")
    compiled = []
    for pattern in patterns:
        try:
            regex = re.compile(pattern)
        except (TypeError, re.error) as error:
            raise ValueError(f"pattern must be a regular expression, got {pattern!r} "
                             f"({error}).") from None
        if regex.groups != 1:
            raise ValueError(f"each pattern needs exactly one group, around the number, such "
                             f"as r'perplexity ([\\d.]+)'; {pattern!r} has {regex.groups}.")
        compiled.append(regex)
    found = {}
    for offset, texts in seed_outputs(chapter, spread).items():
        values = []
        for regex in compiled:
            match = next((m for m in map(regex.search, texts) if m), None)
            if match is None:
                break
            try:
                values.append(float(match.group(1)))
            except ValueError:
                raise ValueError(f"the group of {regex.pattern!r} captured {match.group(1)!r}, "
                                 f"not a number; put the group around the digits only.") from None
        else:
            found[offset] = tuple(values)
    return found
