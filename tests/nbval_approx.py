"""nbval, with numbers that may differ between machines compared within a tolerance.

nbval compares every output of a re-executed notebook with the saved one,
character by character. That is right for what is the same on every machine
(shapes, counts, data statistics, the verdict of a check) and wrong for the
results of training and sampling: another CPU adds floating-point numbers in
another order, training amplifies the last bits, and a perplexity saved as 5.28
comes out as 5.31 elsewhere. A cell whose output holds such numbers says so in a
comment line, with the tolerance and the reason:

    # NBVAL_APPROX rel=0.03: the spread over seeds 0-3 is 1.2% (benchmarks/spread.md)

and its text outputs are then compared like this:

- the text around the numbers must be identical (after nbval's sanitizers), so
  a verdict such as "target met" is still compared exactly;
- each number must be within the tolerance of the saved number at the same
  place: |new - saved| <= max(abs, rel * |saved|) + one unit in the last printed
  digit of a number printed with a decimal point or an exponent (two machines
  can round the same value on either side of a boundary). Keys: ``rel`` (a
  fraction, or a percentage such as ``3%``) and ``abs``; at least one.

Every other cell is compared exactly, as nbval does. ``# NBVAL_IGNORE_OUTPUT``
and ``# NBVAL_SKIP`` keep their meaning; combining one of them with
``NBVAL_APPROX`` is an error. The root conftest.py loads this module, so every
pytest run over chapters/ uses it, `make nbval` and a run by hand alike.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass

import pytest

MARKER = "NBVAL_APPROX"
_MARKER_LINE = re.compile(rf"^\s*#\s*{MARKER}\b(?P<rest>.*)$", re.MULTILINE)
# A number as the book prints it: optional sign, thousands separators, decimals,
# exponent. Not inside a name (weight_ih_l0, x2, 3.4.1) and not after a dot.
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")
PLACEHOLDER = "\u2981"   # stands for a number when texts are compared without them


class ToleranceError(ValueError):
    """A malformed NBVAL_APPROX line."""


@dataclass(frozen=True)
class Tolerance:
    rel: float = 0.0
    abs: float = 0.0
    reason: str = ""

    def describe(self) -> str:
        parts = ([f"rel={self.rel:g}"] if self.rel else []) + ([f"abs={self.abs:g}"] if self.abs else [])
        return " ".join(parts) or "one unit of the last digit printed"


def _value(key: str, text: str) -> float:
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ToleranceError(f"{key}={text!r} is not a number; write e.g. rel=0.03, rel=3% "
                             f"or abs=0.5") from None
    if not math.isfinite(value) or value < 0:
        raise ToleranceError(f"{key}={text} must be a finite number >= 0")
    return value


def parse_tolerance(source: str) -> Tolerance | None:
    """The tolerance a cell declares, or None. Raises ToleranceError if it is malformed.

    >>> parse_tolerance("# NBVAL_APPROX rel=3% abs=0.1: trained for 20 epochs\\nprint(x)")
    Tolerance(rel=0.03, abs=0.1, reason='trained for 20 epochs')
    """
    lines = _MARKER_LINE.findall(source)
    if not lines:
        return None
    if len(lines) > 1:
        raise ToleranceError(f"{len(lines)} {MARKER} lines; a cell declares one tolerance")
    spec, _, reason = lines[0].partition(":")
    values = {}
    for item in spec.split():
        key, sep, text = item.partition("=")
        if not sep or key not in ("rel", "abs"):
            raise ToleranceError(f"{item!r} is not a tolerance; write "
                                 f"'# {MARKER} rel=0.03: why' (keys: rel, abs)")
        if key in values:
            raise ToleranceError(f"{key} is given twice")
        values[key] = _value(key, text)
    if not values:
        raise ToleranceError(f"no tolerance given; write '# {MARKER} rel=0.03: why' or abs=...")
    if not reason.strip():
        raise ToleranceError(f"no reason given; say after a colon where the tolerance comes "
                             f"from, e.g. '# {MARKER} rel=0.03: spread over 4 seeds'")
    return Tolerance(rel=values.get("rel", 0.0), abs=values.get("abs", 0.0),
                     reason=reason.strip())


def _unit(token: str) -> float:
    """One unit in the last printed digit of a number printed with a decimal point or an
    exponent ("5.28" -> 0.01, "4.6e+134" -> 1e133); 0 for an integer ("171,290")."""
    mantissa, e, exponent = token.replace(",", "").lower().partition("e")
    if "." not in mantissa and not e:
        return 0.0
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def numbers(text: str) -> list[tuple[str, float]]:
    return [(m.group(), float(m.group().replace(",", ""))) for m in NUMBER.finditer(text)]


def skeleton(text: str) -> str:
    """The text with every number replaced by one placeholder, and every run of spaces
    by one space: a number in a fixed-width column that gains a digit takes a space
    from its neighbour, and that is no difference."""
    return re.sub(r"[ \t]+", " ", NUMBER.sub(PLACEHOLDER, text))


@dataclass
class Mismatch:
    line: str
    saved: str
    new: str
    allowed: float


def compare_text(saved: str, new: str, tolerance: Tolerance) -> tuple[bool, list[Mismatch]]:
    """Whether `new` matches `saved` within `tolerance`, and the numbers outside it.
    Texts whose words differ (or that hold another count of numbers) do not match, with
    no mismatches listed: nbval's own diff shows them."""
    if skeleton(saved) != skeleton(new):
        return False, []
    mismatches = []
    saved_lines, new_lines = saved.splitlines(), new.splitlines()
    for saved_line, new_line in zip(saved_lines, new_lines):
        for (s_text, s_value), (n_text, n_value) in zip(numbers(saved_line), numbers(new_line)):
            allowed = (max(tolerance.abs, tolerance.rel * abs(s_value))
                       + max(_unit(s_text), _unit(n_text)))
            if not abs(n_value - s_value) <= allowed * (1 + 1e-9):
                mismatches.append(Mismatch(saved_line.strip(), s_text, n_text, allowed))
    return not mismatches, mismatches


def _text_fields(output) -> list[tuple[object, str]]:
    """(container, key) of each text field of an output in nbval's comparison form."""
    fields = []
    if output.get("output_type") == "stream":
        fields += [(output, key) for key in ("stdout", "stderr", "text") if key in output]
    data = output.get("data")
    if isinstance(data, dict) and "text/plain" in data:
        fields.append((data, "text/plain"))
    return fields


def _join(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def _patched_compare(original):
    def compare_outputs(self, test, ref, skip_compare=None):
        tolerance = getattr(self, "nbval_approx", None)
        if tolerance is None:
            return original(self, test, ref, skip_compare)
        test = copy.deepcopy(list(test))
        mismatches = []
        if len(test) == len(ref):
            for test_output, ref_output in zip(test, ref):
                test_fields, ref_fields = _text_fields(test_output), _text_fields(ref_output)
                if [k for _, k in test_fields] != [k for _, k in ref_fields]:
                    continue
                for (t_box, key), (r_box, _) in zip(test_fields, ref_fields):
                    saved, new = self.sanitize(_join(r_box[key])), self.sanitize(_join(t_box[key]))
                    ok, found = compare_text(saved, new, tolerance)
                    mismatches += found
                    if ok:   # within tolerance: let nbval see the saved text
                        t_box[key] = r_box[key]
        equal = original(self, test, ref, skip_compare)
        if not equal:
            lines = [f"Numbers are compared within {tolerance.describe()} in this cell "
                     f"({MARKER}: {tolerance.reason})."]
            if mismatches:
                lines.append(f"{len(mismatches)} number(s) outside the tolerance:")
                lines += [f"  {m.saved} -> {m.new} (allowed difference {m.allowed:.3g}) in: {m.line}"
                          for m in mismatches]
            else:
                lines.append("The text around the numbers differs (or the count of numbers):")
            self.comparison_traceback[:0] = lines
        return equal
    compare_outputs._nbval_approx = True
    return compare_outputs


def pytest_configure(config):
    if not (getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False)):
        return
    from nbval.plugin import IPyNbCell
    if not getattr(IPyNbCell.compare_outputs, "_nbval_approx", False):
        IPyNbCell.compare_outputs = _patched_compare(IPyNbCell.compare_outputs)


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is None or not hasattr(item, "options"):
            continue
        try:
            tolerance = parse_tolerance(cell.source)
        except ToleranceError as error:
            raise pytest.UsageError(f"{item.nodeid}: {error}") from None
        if tolerance is not None and (item.options.get("check") is False or item.options.get("skip")):
            raise pytest.UsageError(f"{item.nodeid}: {MARKER} in a cell whose output nbval "
                                    f"ignores or skips; keep one of the two markers")
        item.nbval_approx = tolerance
