"""The `moshi` and `personaplex` architectures: parley as a client of a Moshi-protocol server.

`moshi`: against moshi's own server (the `moshi` package, unchanged) running tiny random weights on
the CPU (`make moshi-tiny`: tools/moshi_tiny/). Its words are nonsense; its protocol is the real one.
`personaplex`: PyPI's moshi ignores PersonaPlex's prompt keys, so against a fake written from the
PersonaPlex server's code: both prompt keys required (a missing one drops the connection before the
handshake), the voice prompt must name a file it has, and the prompts are fed before the handshake.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from parley.audio.resample import resample
from parley.clock import RealClock
from parley.config import AgentConfig
from parley.errors import ParleyError
from parley.events import AgentAudioStarted, AgentAudioStopped, AgentTurn, ComponentError, PromptFitted
from parley.runner import run_conversation
from parley.transports.loopback import UserLine

sphn = pytest.importorskip("sphn")

ROOT = Path(__file__).resolve().parents[1]
MOSHI_PYTHON = Path(os.environ.get("PARLEY_MOSHI_PYTHON", ROOT / ".venv-moshi" / "bin" / "python"))
MOSHI_CKPT = Path(os.environ.get("PARLEY_MOSHI_CKPT", Path.home() / ".cache" / "parley" / "moshi-tiny"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def moshi_server():
    """moshi's own server on the tiny checkpoint; yields (url, process)."""
    if not MOSHI_PYTHON.exists() or not (MOSHI_CKPT / "config.json").exists():
        pytest.fail("moshi's server is not installed here: run `make moshi-tiny` (`make test` does)")
    port = _free_port()
    proc = subprocess.Popen([str(MOSHI_PYTHON), str(ROOT / "tools" / "moshi_tiny" / "serve.py"), str(MOSHI_CKPT),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moshi's server did not start: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.3)
    yield f"ws://127.0.0.1:{port}/api/chat", proc
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _cfg(url: str) -> AgentConfig:
    cfg = AgentConfig()
    cfg.moshi.url = url
    return cfg


@pytest.mark.slow
def test_a_call_with_moshis_own_server_records_its_audio_and_words(moshi_server, user_speech, tmp_path):
    url, _ = moshi_server
    lines = [UserLine("q", user_speech("Hello, can you hear me?"))]
    result = asyncio.run(run_conversation(_cfg(url), lines, clock=RealClock(), arch="moshi", out_dir=tmp_path,
                                          reply_timeout_s=3.0, tail_s=1.0))
    log = result.log
    assert not log.of(ComponentError), log.of(ComponentError)
    (fitted,) = log.of(PromptFitted)
    assert fitted.prompt == 0 and "takes no text prompt" in fitted.dropped[0]  # reported, not silently dropped
    # random weights never fall silent: the model talks from the handshake until parley hangs up mid-turn
    line_end = next(e.end for e in log.events if e.kind == "sim_utterance")
    assert log.of(AgentAudioStarted)[0].t < line_end
    (turn,) = log.of(AgentTurn)
    assert len(turn.agent) > 20  # its text stream, as the words the caller heard
    assert log.of(AgentAudioStopped)[-1].reason == "cancelled" and turn.interrupted
    from scipy.io import wavfile

    _, stereo = wavfile.read(tmp_path / "conversation.wav")
    heard = stereo[:, 1].astype(np.float32)
    assert np.sqrt(np.mean(heard[16000:] ** 2)) > 100  # its Opus audio, decoded and played


@pytest.mark.slow
def test_the_server_going_away_mid_call_is_logged_and_the_session_survives(moshi_server, user_speech, tmp_path):
    url, proc = moshi_server
    lines = [UserLine("a", user_speech("Hello there.")), UserLine("b", user_speech("Are you still there?"), gap_s=3.0)]

    async def call():
        async def kill_soon():
            await asyncio.sleep(2.5)
            proc.kill()

        killer = asyncio.ensure_future(kill_soon())
        result = await run_conversation(_cfg(url), lines, clock=RealClock(), arch="moshi", out_dir=tmp_path,
                                        reply_timeout_s=3.0, tail_s=1.0)
        await killer
        return result

    result = asyncio.run(call())
    errors = result.log.of(ComponentError)
    assert errors and "connection ended" in errors[0].message
    assert (tmp_path / "transcript.md").exists() and (tmp_path / "conversation.wav").exists()
    assert len([e for e in result.log.events if e.kind == "sim_utterance"]) == 2  # the caller went on talking


# --- PersonaPlex ------------------------------------------------------------------------------------

class FakePersonaPlex:
    """A PersonaPlex-protocol server with its prompt handling: both prompt keys required, the voice
    prompt must be one of its files, the text prompt fed (one token per step) before the handshake.
    Answers each caller turn with `reply` (16 kHz speech) and its words, paced in real time."""

    VOICES = ("NATF2.pt", "NATM1.pt")
    STEP_S = 0.005  # per prompt token: a fast GPU's pace, scaled down

    def __init__(self, reply: np.ndarray, words: list[str]) -> None:
        self.reply, self.words = reply, words
        self.queries: list[dict] = []
        self.port = 0

    async def handler(self, ws) -> None:
        query = {k: v[0] for k, v in parse_qs(urlparse(ws.request.path).query, keep_blank_values=True).items()}
        self.queries.append(query)
        if "text_prompt" not in query or "voice_prompt" not in query:
            await ws.close(1011, "KeyError")  # the real server's handler raises after the upgrade
            return
        if query["voice_prompt"] not in self.VOICES:
            await ws.close(1011, "FileNotFoundError")
            return
        await asyncio.sleep(len(query["text_prompt"].split()) * self.STEP_S)
        await ws.send(b"\x00")
        reader, writer = sphn.OpusStreamReader(24000), sphn.OpusStreamWriter(24000)
        heard_speech, quiet = False, 0
        step = 1920  # 80 ms at 24 kHz
        pending = np.zeros(0, np.float32)
        async for message in ws:
            pending = np.concatenate([pending, reader.append_bytes(message[1:])])
            while len(pending) >= step:
                frame, pending = pending[:step], pending[step:]
                loud = np.sqrt(np.mean(frame ** 2)) > 0.01
                heard_speech, quiet = heard_speech or loud, 0 if loud else quiet + 1
                if heard_speech and quiet >= 8:  # 640 ms of silence after speech: its turn
                    heard_speech = False
                    await self._say(ws, writer)
                out = writer.append_pcm(np.zeros(step, np.float32))
                if len(out):
                    await ws.send(b"\x01" + out)

    async def _say(self, ws, writer) -> None:
        pcm = resample(self.reply, 16000, 24000)
        steps = range(0, len(pcm), 1920)
        per_word = max(1, len(steps) // len(self.words))
        for i, at in enumerate(steps):
            out = writer.append_pcm(pcm[at:at + 1920].astype(np.float32))
            if len(out):
                await ws.send(b"\x01" + out)
            if i % per_word == 0 and i // per_word < len(self.words):
                await ws.send(b"\x02" + (" " + self.words[i // per_word]).encode())
            await asyncio.sleep(0.08)


async def _with_fake(fake: FakePersonaPlex, fn):
    from websockets.asyncio.server import serve

    async with serve(fake.handler, "127.0.0.1", 0) as server:
        fake.port = server.sockets[0].getsockname()[1]
        return await fn(f"ws://127.0.0.1:{fake.port}/api/chat")


@pytest.mark.slow
def test_personaplex_gets_the_prompts_and_its_spoken_words_are_the_heard_reply(user_speech, tmp_path):
    said = "Our returns window is thirty days from delivery."
    fake = FakePersonaPlex(user_speech(said), said.split())
    doc = tmp_path / "policies.md"
    doc.write_text("# Returns\n" + "Items can be returned within thirty days. " * 400)  # far past the window

    async def call(url):
        cfg = _cfg(url)
        cfg.persona = "You are Ada, who answers calls for Northwind."
        cfg.knowledge.documents = [str(doc)]
        cfg.moshi.voice_prompt, cfg.moshi.seed = "NATF2.pt", 7
        return await run_conversation(cfg, [UserLine("q", user_speech("How long do I have to return a coat?"))],
                                      clock=RealClock(), arch="personaplex", reply_timeout_s=8.0, tail_s=1.0)

    result = asyncio.run(_with_fake(fake, call))
    (query,) = fake.queries
    assert query["voice_prompt"] == "NATF2.pt" and query["seed"] == "7"
    assert query["text_prompt"].startswith("You are Ada, who answers calls for Northwind.")
    (fitted,) = result.log.of(PromptFitted)
    assert fitted.dropped == ["document 'Returns'"] and fitted.prompt < 3000  # said at the start, not hidden
    (turn,) = result.log.of(AgentTurn)
    assert turn.agent == said and not turn.interrupted
    started = result.log.of(AgentAudioStarted)[0].t
    end = [e for e in result.log.events if e.kind == "sim_utterance"][0].end
    assert 0.5 < started - end < 2.5  # its own end of turn (640 ms of silence) plus the line


def test_a_personaplex_server_that_drops_the_call_before_its_handshake_is_one_clear_error(user_speech):
    fake = FakePersonaPlex(np.zeros(16000, np.float32), ["x"])

    async def call(url):
        cfg = _cfg(url)
        cfg.moshi.voice_prompt = "nobody.pt"  # not one of its files
        return await run_conversation(cfg, [UserLine("q", user_speech("Hello."))], clock=RealClock(),
                                      arch="personaplex")

    with pytest.raises(ParleyError, match="closed the connection before its handshake.*voice prompt exists"):
        asyncio.run(_with_fake(fake, call))
    assert fake.queries[0]["voice_prompt"] == "nobody.pt"


def test_plain_moshi_sends_no_prompt_keys_and_the_url_must_be_a_websocket():
    from parley.architectures.moshi import MoshiAgent, fit_prompt

    with pytest.raises(ParleyError, match="not a ws:// or wss:// URL"):
        MoshiAgent(_cfg("http://127.0.0.1:8998/api/chat"), RealClock(), None, vad=lambda p: 0.0, user_vad=lambda p: 0.0)
    prompt, dropped = fit_prompt("You are Ada. " * 50, [], [("A", "x " * 4000), ("B", "y " * 10)], budget=300)
    assert dropped == ["document 'A'"] and prompt.startswith("You are Ada.") and 'title="B"' in prompt
    prompt, dropped = fit_prompt("word " * 1000, [("Steps", "z")], [("C", "c")], budget=100)
    assert dropped == ["the procedure", "the persona after 78 of 1000 words", "document 'C'"]
    assert len(prompt.split()) < 100


def test_plain_moshi_pointed_at_a_personaplex_server_gets_one_clear_error(user_speech):
    """`--arch moshi` sends no prompt keys; a PersonaPlex server requires both and drops the call."""
    fake = FakePersonaPlex(np.zeros(16000, np.float32), ["x"])

    async def call(url):
        return await run_conversation(_cfg(url), [UserLine("q", user_speech("Hello."))], clock=RealClock(),
                                      arch="moshi")

    with pytest.raises(ParleyError, match="moshi server at .* closed the connection before its handshake"):
        asyncio.run(_with_fake(fake, call))
    assert "text_prompt" not in fake.queries[0] and "voice_prompt" not in fake.queries[0]


def test_damaged_audio_pages_are_dropped_and_the_audio_after_them_still_plays():
    from parley.architectures.moshi import MoshiAgent
    from parley.events import EventLog

    writer = sphn.OpusStreamWriter(24000)
    pages = [bytes(p) for p in (writer.append_pcm((0.1 * np.sin(np.arange(480) / 5)).astype(np.float32))
                                for _ in range(40)) if len(p)]
    cfg = AgentConfig()
    cfg.moshi.url = "ws://127.0.0.1:8998/api/chat"
    clock = RealClock()
    log = EventLog("s", clock_now=clock.now)
    agent = MoshiAgent(cfg, clock, log, vad=lambda p: 0.0, user_vad=lambda p: 0.0)
    agent._reader = sphn.OpusStreamReader(24000)
    for i, page in enumerate(pages):
        if i in (5, 6):
            agent._on_message(b"\x01OggS" + bytes(40))  # junk that poisons a stream reader's buffer
        agent._on_message(b"\x01" + page)
    assert all("did not decode" in e.message for e in log.of("error"))  # at most reported, never raised
    assert agent._received >= 0.9 * (len(pages) - 1) * 960 * 16000 / 24000  # all but the junk decoded
