"""The benchmark's report: Markdown tables and chapter 16's table from the results JSON.

    python -m utils.benchmark                       # measure: benchmarks/results-cpu.json
    python scripts/benchmark_report.py              # then: benchmarks/results-cpu.md
    python scripts/benchmark_report.py --device cuda --update-chapter chapters/16_performance_settings.ipynb

``make bench`` runs both steps. The report lives here, not in ``utils``: it
writes files of this repository (the chapter among them), which the package a
reader imports must not do.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the repository, for utils
from utils.benchmark import _rate, machine_line  # noqa: E402  (after the path is set)

TABLE_END = "<!-- end benchmark-table -->"


def markdown_tables(results: dict) -> str:
    """The tables of ``results`` (what ``run`` returns) as Markdown, headed by the machine."""
    lines = [f"Measured on: {machine_line(results['machine'])}.",
             f"Command: `{results['command']}`.", ""]
    fused = results.get("fused_gru")
    if fused:
        s = fused["settings"]
        lines += [f"**Scratch GRU against `nn.GRU`**: training tokens/s at hidden size {s['hidden']}, "
                  f"batch {s['batch_size']}, {s['num_steps']} steps, {s['optimizer']}; median of "
                  f"{s['rounds']} interleaved rounds of {s['num_batches']} batches.", "",
                  "| model | tokens/s | ratio to nn.GRU |", "|---|---:|---:|"]
        for name, rate in fused["tokens_per_second"].items():
            lines.append(f"| {name} | {_rate(rate)} | {fused['ratio_to_nn_gru'][name]:.2f} |")
        verdict = "met" if fused["met"] else "missed"
        lines += ["", f"Target, FastGRU at {fused['target']} x nn.GRU or more: {verdict}.", ""]
    models = results.get("language_models")
    if models:
        budget = models[0]["time_budget"]
        lines += [f"**Language models** on The Time Machine's characters, each trained with its "
                  f"chapter's recipe (batch 32, 35 steps, random sampling, clipping at 1, seeded) "
                  f"for {budget:g} s of training.", "",
                  f"| model | chapter | optimizer | tokens/s | validation perplexity after "
                  f"{budget:g} s (lowest on the way) | target | seconds to target |",
                  "|---|---:|---|---:|---:|---:|---|"]
        for r in models:
            reached = (f"{r['seconds_to_target']:.1f} (epoch {r['epochs_to_target']:.3g})"
                       if r["seconds_to_target"] is not None
                       else f"not reached within {budget:g} s")
            last = r["valid_perplexity"]
            lowest = min(r["history"].get("valid_perplexity") or [last], default=last)
            ppl = f"{last:.2f} ({lowest:.2f})" if last is not None else "-"
            target = f"{r['target']:g}" + ("" if r["target_from"].startswith("chapter")
                                           else f" ({r['target_from']})")
            lines.append(f"| {r['name']} | {r['chapter']} | {r['optimizer']} | "
                         f"{_rate(r['tokens_per_second'])} | {ppl} | {target} | {reached} |")
        lines.append("")
    s2s = results.get("seq2seq")
    if s2s:
        verdict = "met" if s2s["met"] else "missed"
        lines += ["**Sequence to sequence**: chapter 13's English-French model trained from "
                  f"scratch on the {s2s['device'].upper()}.", "",
                  "| model | epochs | training s | target tokens/s | test BLEU | target |",
                  "|---|---:|---:|---:|---:|---|",
                  f"| GRU encoder-decoder (chapter 13) | {s2s['epochs']:.3g} | "
                  f"{s2s['train_seconds']:.1f} | {_rate(s2s['tokens_per_second'])} | "
                  f"{s2s['test_bleu']:.1f} | {s2s['target']}: {verdict} |", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(results: dict, out_dir) -> Path:
    """Write ``results-<device>.md`` (the tables) into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = results["settings"]["device"]
    md_path = out_dir / f"results-{device}.md"
    md_path.write_text(f"# Benchmark results ({device})\n\n{markdown_tables(results)}")
    return md_path


def update_chapter(path, device: str, table: str) -> None:
    """Replace what stands between ``<!-- benchmark-table: DEVICE -->`` and ``TABLE_END``.

    The markers sit in a markdown cell of the notebook at ``path``; the cell's
    text between them becomes ``table``. Only that cell changes.
    """
    path, begin = Path(path), f"<!-- benchmark-table: {device} -->"
    if not path.is_file():
        raise FileNotFoundError(f"--update-chapter {path}: no such notebook. Give the chapter that "
                                f"holds the markers {begin} ... {TABLE_END} in a markdown cell.")
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] != "markdown" or begin not in source:
            continue
        start = source.index(begin) + len(begin)
        end = source.find(TABLE_END, start)
        if end < 0:
            raise ValueError(f"{path}: the marker {begin} has no {TABLE_END} after it in its cell.")
        source = f"{source[:start]}\n\n{table.strip()}\n\n{source[end:]}"
        cell["source"] = source.splitlines(keepends=True)
        text = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")
        return
    raise ValueError(f"{path}: no markdown cell holds the marker {begin}; add it, and "
                     f"{TABLE_END} below it, where the table should go.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--out", default="benchmarks", help="where the results are (default benchmarks/)")
    parser.add_argument("--update-chapter", metavar="NOTEBOOK",
                        help="also put the tables between the notebook's benchmark-table markers")
    args = parser.parse_args(argv)
    path = Path(args.out) / f"results-{args.device}.json"
    if not path.is_file():
        parser.exit(2, f"{parser.prog}: {path} does not exist; measure first: "
                       f"python -m utils.benchmark --device {args.device} --out {args.out}\n")
    results = json.loads(path.read_text())
    print(f"Wrote {write_markdown(results, args.out)}.")
    if args.update_chapter:
        update_chapter(args.update_chapter, args.device, markdown_tables(results))
        print(f"Updated the {args.device} table in {args.update_chapter}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
