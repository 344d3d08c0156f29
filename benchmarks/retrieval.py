"""Knowledge-base speed: ingest rate and hybrid-search latency over ≥ 10,000 chunks.

Documents are generated (a product catalogue: one Markdown file per product, each with several
sections of varied sentences, numbers and names), so the run needs nothing but the installed models.
Ingest = read + chunk + embed + index, documents per second. Search = one query embedded + BM25 +
dense scores + rank fusion, timed per query over 300 queries.

Usage: python benchmarks/retrieval.py [--docs N] [--queries Q] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from parley.dialogue.knowledge import KnowledgeBase

NOUNS = ["jacket", "boot", "parka", "fleece", "sock", "glove", "tent", "backpack", "shell", "sweater", "beanie", "vest"]
ADJ = ["waterproof", "insulated", "recycled", "lightweight", "merino", "packable", "breathable", "reflective"]
PLACES = ["Portland", "Boise", "Reno", "Denver", "Seattle", "Austin", "Chicago", "Toronto"]
SECTIONS = ["Materials", "Care", "Sizing", "Warranty", "Shipping", "Returns"]


def make_docs(folder: Path, n: int, sections: int = 5, seed: int = 0) -> None:
    rng = random.Random(seed)
    for i in range(n):
        noun, adj = rng.choice(NOUNS), rng.choice(ADJ)
        lines = [f"# The {adj} {noun} model {1000 + i}", ""]
        for sec in rng.sample(SECTIONS, sections):
            lines += [f"## {sec}", ""]
            for _ in range(rng.randint(3, 5)):
                lines.append(
                    f"The {adj} {noun} {1000 + i} {rng.choice(['ships from', 'is sold in', 'was tested in'])} "
                    f"{rng.choice(PLACES)} and weighs {rng.randint(100, 2000)} grams; "
                    f"{rng.choice(['wash it cold', 'dry it flat', 'return it within 45 days', 'it has a 3-year warranty'])}, "
                    f"item code {rng.randint(10000, 99999)}.")
            lines.append("")
        (folder / f"product-{i:05d}.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=2000, help="documents to generate (≈ 5 chunks each)")
    ap.add_argument("--sections", type=int, default=5, help="sections per document (1–6; ≈ 1 chunk each)")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        docs, kb_dir = Path(tmp) / "docs", Path(tmp) / "kb"
        docs.mkdir()
        make_docs(docs, args.docs, args.sections)
        doc_chars = round(sum(len(p.read_text()) for p in docs.iterdir()) / args.docs)
        kb = KnowledgeBase(kb_dir)
        kb.embedder.embed(["warm up"])
        t0 = time.perf_counter()
        kb.add(docs)
        ingest_s = time.perf_counter() - t0
        kb = KnowledgeBase(kb_dir)  # search what was persisted
        rng = random.Random(1)
        queries = [f"{rng.choice(['how heavy is', 'how do I wash', 'warranty on', 'where does', 'item code of'])} "
                   f"the {rng.choice(ADJ)} {rng.choice(NOUNS)} {1000 + rng.randrange(args.docs)}"
                   for _ in range(args.queries)]
        kb.search(queries[0])
        times = []
        for q in queries:
            t = time.perf_counter()
            kb.search(q, k=3)
            times.append((time.perf_counter() - t) * 1000)
    result = {
        "documents": args.docs, "chunks": len(kb.chunks),
        "doc_chars_mean": doc_chars, "ingest_s": round(ingest_s, 2),
        "ingest_docs_per_s": round(args.docs / ingest_s, 1),
        "search_ms_p50": round(float(np.percentile(times, 50)), 2),
        "search_ms_p95": round(float(np.percentile(times, 95)), 2), "queries": len(times),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
