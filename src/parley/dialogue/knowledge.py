"""A knowledge base on disk: documents → chunks → hybrid retrieval (BM25 + MiniLM, fused by rank).

Layout of a knowledge-base folder:
    manifest.json   source path → sha256, title, what screening left out ("quarantined") and the
                    specifics replies may not say ("withheld", `dialogue/screen.py`)
    chunks.jsonl    one chunk per line: id, source, title, text
    vectors.npy     MiniLM embeddings of the chunks, row i = chunk i
    bm25/           the bm25s index over the same chunks
Adding a folder re-reads only new or changed files (by sha256); removed files drop out. Embeddings
are the expensive part and are reused for unchanged files; the BM25 index is rebuilt (milliseconds).

Search fuses the lexical and the dense ranking with reciprocal rank fusion (score = Σ 1/(60 + rank)),
which needs no score calibration between the two and is robust when one of them misses: BM25 finds
exact names and numbers ("order 58316"), the embeddings find paraphrases ("money back" → refunds).
Chunk text is data for the prompt, never instructions: see `dialogue/persona.system_prompt`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import asdict, dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

from parley.errors import ParleyError

SUFFIXES = {".md", ".markdown", ".txt", ".text", ".html", ".htm", ".pdf"}
CHUNK_CHARS = 600
RRF_K = 60


@dataclass
class Chunk:
    id: int
    source: str
    title: str
    text: str


@dataclass
class Hit:
    chunk: Chunk
    score: float
    bm25_rank: int | None
    dense_rank: int | None

    def to_dict(self) -> dict:
        return {**asdict(self.chunk), "score": round(self.score, 5), "bm25_rank": self.bm25_rank,
                "dense_rank": self.dense_rank}


# --- reading documents -----------------------------------------------------------------------------

class _TextOfHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in ("p", "br", "li", "h1", "h2", "h3", "h4", "tr", "div"):
            self.parts.append("\n\n" if tag != "br" else "\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.parts.append(data)


def read_document(path: Path, data: bytes | None = None) -> tuple[str, str]:
    """(title, plain text) of the file at `path` (or of its bytes, `data`, already read). Markdown
    keeps its headings as text lines; HTML is reduced to its text; PDF gives its text layer."""
    try:
        data = path.read_bytes() if data is None else data
    except OSError as exc:
        raise ParleyError(f"{path}: cannot read the document ({exc.strerror}); check the path.") from None
    if path.suffix.lower() == ".pdf":
        return _read_pdf(path, data)
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ParleyError(f"{path} is not UTF-8 text; convert it (e.g. `iconv -t utf-8`) and try again.") from None
    if path.suffix.lower() in (".html", ".htm"):
        p = _TextOfHTML()
        p.feed(raw)
        text = re.sub(r"[ \t]+", " ", "".join(p.parts))
        return (p.title.strip() or _title_from_name(path)), re.sub(r"\n\s*\n\s*", "\n\n", text).strip()
    m = re.search(r"^#\s+(.+)$", raw, re.MULTILINE)
    return (m.group(1).strip() if m else _title_from_name(path)), raw.strip()


def _read_pdf(path: Path, data: bytes) -> tuple[str, str]:
    """A PDF's text layer, pages separated by blank lines; its title from the metadata or the name."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ParleyError(f"{path} is an encrypted PDF; save an unencrypted copy and add that.")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ParleyError(f"{path} is not a readable PDF ({exc}); re-export it or convert it to text.") from None
    text = "\n\n".join(p for p in pages if p)
    if not text:
        raise ParleyError(f"{path} has no text layer (a scanned PDF?); run OCR on it first, then add it again.")
    return (meta_title.strip() or _title_from_name(path)), text


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize()


def chunk_text(title: str, text: str, max_chars: int = CHUNK_CHARS) -> list[str]:
    """Paragraph-aligned chunks of at most ~max_chars, each prefixed with the document title and the
    section heading it falls under, so a chunk read alone still says what it is about."""
    chunks: list[str] = []
    section = ""
    buf = ""

    def flush() -> None:
        nonlocal buf
        if buf.strip():
            head = f"{title} — {section}" if section and section != title else title
            chunks.append(f"{head}: {buf.strip()}")
        buf = ""

    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if not para:
            continue
        heading = re.match(r"^#{1,6}\s+(.+)$", para)
        if heading and "\n" not in para:
            flush()
            section = heading.group(1).strip()
            continue
        for piece in split_long(para, max_chars):
            if len(buf) + len(piece) + 1 > max_chars:
                flush()
            buf = f"{buf}\n{piece}" if buf else piece
    flush()
    return chunks


def split_long(para: str, max_chars: int) -> list[str]:
    """`para` in pieces of at most `max_chars`, cut at sentence ends (a line with none, at spaces)."""
    if len(para) <= max_chars:
        return [para]
    out, cur = [], ""
    for sentence in re.split(r"(?<=[.!?])\s+", para):
        while len(sentence) > max_chars:  # a line with no sentence end: cut at the last space
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            if cur:
                out.append(cur)
                cur = ""
            out.append(sentence[:cut])
            sentence = sentence[cut:].lstrip()
        if cur and len(cur) + len(sentence) + 1 > max_chars:
            out.append(cur)
            cur = ""
        cur = f"{cur} {sentence}".strip()
    if cur:
        out.append(cur)
    return out


# --- the index -------------------------------------------------------------------------------------

def _documents_under(folder: Path) -> list[Path]:
    """Supported files under `folder`, following no symlinked folder twice (a link loop ends, not hangs)."""
    out, seen = [], set()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        out += [Path(dirpath) / n for n in sorted(filenames) if Path(n).suffix.lower() in SUFFIXES
                and (Path(dirpath) / n).is_file()]
    return out


def _tokenize(texts: list[str]):
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", show_progress=False)


class KnowledgeBase:
    def __init__(self, folder: Path, embedder=None) -> None:
        self.folder = Path(folder)
        self._embedder = embedder
        self.chunks: list[Chunk] = []
        self.vectors = np.zeros((0, 384), dtype=np.float32)
        self.manifest: dict[str, dict] = {}
        self._bm25 = None
        if (self.folder / "manifest.json").exists():
            self._load()

    @property
    def embedder(self):
        if self._embedder is None:
            from parley.components import registry

            self._embedder = registry.embedder()
        return self._embedder

    @property
    def withheld(self) -> list[str]:
        """Specifics (codes, numbers, links) only doubtful paragraphs of the indexed files contain."""
        return sorted({v for entry in self.manifest.values() for v in entry.get("withheld", ())})

    # persistence
    def _load(self) -> None:
        import bm25s

        try:
            self.manifest = json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))
            with open(self.folder / "chunks.jsonl", encoding="utf-8") as fh:
                self.chunks = [Chunk(**json.loads(line)) for line in fh if line.strip()]
            self.vectors = np.load(self.folder / "vectors.npy")
            self._bm25 = bm25s.BM25.load(str(self.folder / "bm25")) if self.chunks else None
        except Exception as exc:  # whatever the damage (truncated arrays, bad JSON, a broken pickle)
            raise ParleyError(f"the knowledge base in {self.folder} is damaged ({exc.__class__.__name__}); "
                              "delete the folder and add the documents again.") from None
        if len(self.vectors) != len(self.chunks):
            raise ParleyError(f"the knowledge base in {self.folder} is inconsistent; delete it and add the documents again.")

    def _save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "manifest.json").write_text(json.dumps(self.manifest, indent=1), encoding="utf-8")
        with open(self.folder / "chunks.jsonl", "w", encoding="utf-8") as fh:
            for c in self.chunks:
                fh.write(json.dumps(asdict(c)) + "\n")
        np.save(self.folder / "vectors.npy", self.vectors)
        if self._bm25 is not None:
            self._bm25.save(str(self.folder / "bm25"))

    # updates
    def add(self, path: Path, *, screen=None, progress=None) -> dict[str, int]:
        """Index a file or every supported file under a folder; returns counts of what changed.
        `screen(text) -> screen.Screened` leaves out paragraphs that order the assistant about;
        `progress(done_bytes, total_bytes, file)` is called per file. Stopped midway (Ctrl-C), the
        files finished so far are saved."""
        path = Path(path)
        if not path.exists():
            raise ParleyError(f"{path}: no such file or folder.")
        if path.is_file() and path.suffix.lower() not in SUFFIXES:
            raise ParleyError(f"{path}: parley reads {', '.join(sorted(SUFFIXES))} files; convert it to one of those.")
        files = [path] if path.is_file() else _documents_under(path)
        seen = {str(f.resolve()) for f in files}
        root = str(path.resolve()) if path.is_dir() else None
        stats = {"added": 0, "updated": 0, "unchanged": 0, "removed": 0, "chunks": 0, "quarantined": 0, "withheld": 0}
        changed: set[str] = set()
        new_chunks: list[tuple[str, str, str]] = []
        vectors: list[np.ndarray] = []
        total, done = sum(f.stat().st_size for f in files), 0
        try:
            for f in files:
                key = str(f.resolve())
                data = f.read_bytes()
                done += len(data)
                digest = hashlib.sha256(data).hexdigest()
                old = self.manifest.get(key)
                if old and old["sha256"] == digest and old.get("screened") == (screen is not None) \
                        and (screen is None or "withheld" in old):  # (indexed before specifics were withheld)
                    stats["unchanged"] += 1
                else:
                    title, text = read_document(f, data)
                    entry = {"sha256": digest, "title": title, "screened": screen is not None}
                    if screen is not None:
                        screened = screen(text)
                        text = screened.text
                        entry["quarantined"] = [q[:200] for q in screened.quarantined]
                        entry["withheld"] = screened.withheld
                        stats["withheld"] += len(screened.withheld)
                        stats["quarantined"] += len(screened.quarantined)
                    pieces = chunk_text(title, text)
                    vectors.append(self.embedder.embed(pieces) if pieces else np.zeros((0, 384), np.float32))
                    new_chunks += [(key, title, t) for t in pieces]
                    stats["updated" if old else "added"] += 1
                    changed.add(key)
                    self.manifest[key] = entry
                if progress is not None:
                    progress(done, total, f)
            if root is not None:  # files that disappeared from an indexed folder drop out
                for key in [k for k in self.manifest if k.startswith(root + "/") and k not in seen]:
                    del self.manifest[key]
                    changed.add(key)
                    stats["removed"] += 1
        finally:  # what was finished is kept, also when stopped
            if changed:
                self._commit(changed, new_chunks, vectors)
        stats["chunks"] = len(self.chunks) if changed else 0
        return stats

    def _commit(self, changed: set[str], new_chunks: list[tuple[str, str, str]], vectors: list[np.ndarray]) -> None:
        keep = [i for i, c in enumerate(self.chunks) if c.source not in changed]
        self.chunks = [self.chunks[i] for i in keep] + [Chunk(0, s, ti, t) for s, ti, t in new_chunks]
        for i, c in enumerate(self.chunks):
            c.id = i
        self.vectors = np.concatenate([self.vectors[keep], *vectors]).astype(np.float32)
        per_source = Counter(c.source for c in self.chunks)
        for key, entry in self.manifest.items():
            entry["chunks"] = per_source[key]
        self._reindex()
        self._save()

    def _reindex(self) -> None:
        import bm25s

        self._bm25 = None
        if self.chunks:
            self._bm25 = bm25s.BM25()
            self._bm25.index(_tokenize([c.text for c in self.chunks]), show_progress=False)

    # search
    def search(self, query: str, k: int = 3, depth: int = 20) -> list[Hit]:
        if not self.chunks or not query.strip():
            return []
        n = min(depth, len(self.chunks))
        bm25_rank: dict[int, int] = {}
        q_tokens = _tokenize([query])
        if q_tokens.vocab and any(len(ids) for ids in q_tokens.ids):
            docs, scores = self._bm25.retrieve(q_tokens, k=n, show_progress=False)
            for r, (d, s) in enumerate(zip(docs[0], scores[0])):
                if s > 0:
                    bm25_rank[int(d)] = r
        q = self.embedder.embed([query])[0]
        sims = self.vectors @ q
        top = np.argpartition(-sims, n - 1)[:n]
        dense_rank = {int(d): r for r, d in enumerate(top[np.argsort(-sims[top])])}
        fused: dict[int, float] = {}
        for ranks in (bm25_rank, dense_rank):
            for d, r in ranks.items():
                fused[d] = fused.get(d, 0.0) + 1.0 / (RRF_K + r + 1)
        best = sorted(fused, key=lambda d: -fused[d])[:k]
        return [Hit(self.chunks[d], fused[d], bm25_rank.get(d), dense_rank.get(d)) for d in best]
