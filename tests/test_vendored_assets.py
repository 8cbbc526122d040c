"""The front-end files the website serves itself (book/_static/vendor): each one is
listed in the README there with the SHA-256 it must have, and the site uses them.

The browser test (tests/browser) checks that they work; this one, that they are the
files the README says they are, so an update cannot slip in unrecorded.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "book" / "_static"
VENDOR = STATIC / "vendor"
README = VENDOR / "README.md"
ROW = re.compile(r"^\| `(?P<path>[^`]+)` \| (?P<bytes>[\d,]+) \| `(?P<sha256>[0-9a-f]{64})` \|", re.M)
# 5.4 MB today, 3.6 of them the widget manager; a file that makes it grow past this
# should be a deliberate decision, not an accident.
MAX_BYTES = 6_000_000


def listed() -> dict[str, tuple[int, str]]:
    return {m["path"]: (int(m["bytes"].replace(",", "")), m["sha256"])
            for m in ROW.finditer(README.read_text(encoding="utf-8"))}


def test_every_vendored_file_is_listed_with_its_size_and_sha256():
    files = {p.relative_to(VENDOR).as_posix(): p for p in VENDOR.rglob("*")
             if p.is_file() and p != README}
    rows = listed()
    assert sorted(files) == sorted(rows), \
        f"book/_static/vendor/README.md lists {sorted(set(rows) - set(files))} that are not there " \
        f"and misses {sorted(set(files) - set(rows))}"
    for name, path in files.items():
        size, sha256 = rows[name]
        data = path.read_bytes()
        assert len(data) == size, f"{name}: {len(data)} bytes, the README says {size}"
        assert hashlib.sha256(data).hexdigest() == sha256, \
            f"{name}: SHA-256 differs from the README's; a changed vendored file must be recorded there"


def test_vendored_files_stay_small():
    total = sum(size for size, _ in listed().values())
    assert total <= MAX_BYTES, f"book/_static/vendor holds {total:,} bytes (limit {MAX_BYTES:,})"


def test_the_site_is_pointed_at_the_vendored_files():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]
    assert "book/_static" in config["html_static_path"]
    scripts = [config["mathjax_path"], *config["nb_ipywidgets_js"]]
    for script in scripts:
        assert not re.match(r"\w+://", script), f"{script}: the site must not load scripts from a CDN"
        assert (STATIC / script).is_file(), f"_config.yml names {script}, missing from book/_static"
    assert list(config["nb_ipywidgets_js"]) == [
        "vendor/requirejs/require.js", "widgets.js", "vendor/html-manager/embed-amd.js"], \
        "require.js must load first, then widgets.js (it configures require.js), then the widget manager"
