"""`parley serve` against the official `openai` SDK's realtime client, on the real models.

Every event the server sends is checked against the SDK's own `RealtimeServerEvent` types (raw JSON,
not the SDK's lenient parse). Conversations run on the real clock: the client streams audio at the
pace it is spoken, as a microphone would.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pytest
from pydantic import TypeAdapter

from parley.audio.resample import resample
from parley.events import AgentAudioStarted, AgentAudioStopped, AgentTurn, LlmDone, read_events
from parley.transports.realtime.server import RealtimeServer, ServeOptions

openai = pytest.importorskip("openai")
from openai.types.realtime import RealtimeServerEvent  # noqa: E402

STRICT = TypeAdapter(RealtimeServerEvent)


@asynccontextmanager
async def running(cfg, tmp_path: Path, **kw):
    server = RealtimeServer(ServeOptions(cfg=cfg, port=0, sessions_dir=tmp_path / "sessions", **kw))
    ready = asyncio.Event()
    task = asyncio.ensure_future(server.serve_forever(ready))
    await asyncio.wait_for(ready.wait(), 10)
    try:
        yield server
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def client(server, key: str = "x"):
    return openai.AsyncOpenAI(api_key=key, base_url=f"http://127.0.0.1:{server.port}/v1")


def pcm16_24k(pcm: np.ndarray) -> bytes:
    return (np.clip(resample(pcm, 16000, 24000), -1, 1) * 32767).astype("<i2").tobytes()


async def stream(conn, audio: bytes, chunk_s: float = 0.04) -> None:
    """Append `audio` at the pace it plays."""
    step = int(24000 * chunk_s) * 2
    for i in range(0, len(audio), step):
        await conn.input_audio_buffer.append(audio=base64.b64encode(audio[i:i + step]).decode())
        await asyncio.sleep(chunk_s)


async def events(conn, until: str, *, timeout: float = 60.0, seen: list | None = None):
    """Raw server events, each validated strictly, up to and including the first of type `until`."""
    out = seen if seen is not None else []
    async with asyncio.timeout(timeout):
        while True:
            ev = json.loads(await conn.recv_bytes())
            STRICT.validate_python(ev)
            out.append(ev)
            if ev["type"] == until:
                return out


def spoken_digits(text: str) -> str:
    """The digits in `text`, whether written or said ("four seven" → "47")."""
    words = "zero one two three four five six seven eight nine".split()
    return "".join(c for c in re.sub(r"[a-z]+", lambda m: str(words.index(m[0])) if m[0] in words else " ",
                                     text.lower()) if c.isdigit())


def types(evs: list[dict]) -> list[str]:
    return [e["type"] for e in evs]


def session_events(tmp_path: Path) -> list:
    (folder,) = [p for p in (tmp_path / "sessions").iterdir() if p.is_dir()]
    return read_events(folder / "events.jsonl")


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["cascade", "hybrid"])
def test_the_openai_sdk_speaks_a_turn_and_gets_audio_and_a_transcript(fast_cfg, user_speech, tmp_path, arch):
    async def call():
        async with running(fast_cfg, tmp_path, arch=arch) as server:
            async with client(server).realtime.connect(model="parley") as conn:
                await events(conn, "session.created")
                await conn.session.update(session={"type": "realtime", "instructions": (
                    "You answer for a bakery that opens at seven in the morning every day.")})
                await events(conn, "session.updated")
                await stream(conn, pcm16_24k(user_speech("What time do you open tomorrow morning?")))
                evs = await events(conn, "response.done")
                while (evs[-1]["response"].get("metadata") or {}).get("parley"):  # a hybrid's acknowledgement
                    await events(conn, "response.done", seen=evs)
                return evs

    evs = asyncio.run(call())
    acks = [e for e in evs if e["type"] == "response.created" and (e["response"].get("metadata") or {}).get("parley")]
    assert all(e["response"]["metadata"]["parley"] == "acknowledgement" for e in acks) and (arch == "hybrid" or not acks)
    evs = [e for e in evs if e.get("response_id", (e.get("response") or {}).get("id")) not in
           {a["response"]["id"] for a in acks}]  # the turn's own response, from here on
    kinds = types(evs)
    for kind in ("input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
                 "input_audio_buffer.committed", "conversation.item.input_audio_transcription.completed",
                 "response.created", "response.output_item.added", "response.content_part.added",
                 "response.output_audio.delta", "response.output_audio_transcript.delta",
                 "response.output_audio.done", "response.output_audio_transcript.done"):
        assert kind in kinds, kind
    assert kinds.index("input_audio_buffer.speech_started") < kinds.index("input_audio_buffer.speech_stopped") \
        < kinds.index("response.created") < kinds.index("response.output_audio.delta")
    heard = next(e for e in evs if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert "open" in heard["transcript"].lower()
    audio = b"".join(base64.b64decode(e["delta"]) for e in evs if e["type"] == "response.output_audio.delta")
    assert len(audio) / 48000 > 0.5  # pcm16 at 24 kHz: seconds of speech
    said = next(e for e in evs if e["type"] == "response.output_audio_transcript.done")["transcript"]
    done = evs[-1]["response"]
    assert done["status"] == "completed" and done["output"][0]["content"][0]["transcript"] == said
    assert "".join(e["delta"] for e in evs if e["type"] == "response.output_audio_transcript.delta") == said
    # the server session is a parley session: the same artefacts, the turn as heard
    (turn,) = [e for e in session_events(tmp_path) if isinstance(e, AgentTurn)]
    assert turn.agent == said and "open" in turn.user.lower()


@pytest.mark.slow
def test_a_barge_in_over_the_socket_cancels_the_response_and_truncates_to_what_was_played(fast_cfg, user_speech,
                                                                                        tmp_path):
    async def call():
        async with running(fast_cfg, tmp_path) as server:
            async with client(server).realtime.connect(model="parley") as conn:
                await conn.session.update(session={"type": "realtime", "instructions": (
                    "You are a shop assistant. Answer every question at length, in four or five sentences.")})
                seen: list[dict] = []
                await events(conn, "session.updated", seen=seen)
                await stream(conn, pcm16_24k(user_speech("Can you explain your whole return policy to me?")))
                await events(conn, "response.output_audio.delta", seen=seen)
                await asyncio.sleep(1.2)  # the agent is mid-answer
                barge = asyncio.ensure_future(stream(conn, pcm16_24k(
                    user_speech("Sorry, stop there, I only need to know about shoes."))))
                await events(conn, "input_audio_buffer.speech_started", seen=seen)
                # what this client played: every delta received before the user spoke over it
                played_ms = sum(len(base64.b64decode(e["delta"])) for e in seen
                                if e["type"] == "response.output_audio.delta") * 1000 // 48000
                item = next(e for e in seen if e["type"] == "response.output_item.added")["item"]["id"]
                await conn.conversation.item.truncate(item_id=item, content_index=0, audio_end_ms=played_ms)
                await events(conn, "conversation.item.truncated", seen=seen)
                await barge
                await events(conn, "response.done", seen=seen)  # the first, cancelled
                return seen, played_ms

    seen, played_ms = asyncio.run(call())
    first = next(e for e in seen if e["type"] == "response.done")["response"]
    assert first["status"] == "cancelled" and first["status_details"]["reason"] == "turn_detected"
    truncated = next(e for e in seen if e["type"] == "conversation.item.truncated")
    assert truncated["audio_end_ms"] == played_ms
    log = session_events(tmp_path)
    written = next(e for e in log if isinstance(e, LlmDone) and e.turn == 1).text
    turn = next(e for e in log if isinstance(e, AgentTurn))
    # history holds what was played before the caller spoke, not the whole answer
    assert turn.interrupted and turn.agent and written.startswith(turn.agent) and len(turn.agent) < len(written)
    start = next(e.t for e in log if isinstance(e, AgentAudioStarted) and e.turn == 1)
    stop = next(e for e in log if isinstance(e, AgentAudioStopped) and e.turn == 1)
    assert stop.reason == "barge_in" and played_ms <= (stop.t - start) * 1000 + 100


@pytest.mark.slow
def test_turns_left_to_the_client_commit_and_response_create_and_bad_events_get_errors(fast_cfg, user_speech,
                                                                                      tmp_path):
    async def call():
        async with running(fast_cfg, tmp_path) as server:
            async with client(server).realtime.connect(model="parley") as conn:
                await conn.session.update(session={"type": "realtime", "audio": {"input": {
                    "format": {"type": "audio/pcmu"}, "turn_detection": None}}})
                seen = await events(conn, "session.updated")
                assert seen[-1]["session"]["audio"]["input"]["turn_detection"] is None
                await conn.send_raw("{not json")
                await conn.send_raw(json.dumps({"type": "input_audio_buffer.append", "audio": "A" * (5 << 20)}))
                await conn.send_raw(json.dumps({"type": "no.such.event"}))
                await conn.input_audio_buffer.append(audio="%%%not base64")
                await conn.response.create()  # nothing committed yet
                errors = [e for e in [json.loads(await conn.recv_bytes()) for _ in range(5)]]
                from parley.audio import g711

                ulaw = g711.ulaw_encode(resample(user_speech("My order number is four seven one nine two."),
                                                 16000, 8000)).tobytes()
                await conn.input_audio_buffer.append(audio=base64.b64encode(ulaw).decode())
                await conn.input_audio_buffer.commit()
                await conn.response.create()
                seen = await events(conn, "response.done")
                await conn.conversation.item.create(item={"type": "message", "role": "user", "content": [
                    {"type": "input_text", "text": "And what was my order number again?"}]})
                await conn.response.create()
                seen += await events(conn, "response.done")
                return errors, seen

    errors, seen = asyncio.run(call())
    assert [e["type"] for e in errors] == ["error"] * 5
    for e in errors:
        STRICT.validate_python(e)
    assert [e["error"]["code"] for e in errors] == ["invalid_json", "message_too_large", "unknown_event",
                                                     "invalid_value", "no_user_input"]
    kinds = types(seen)
    assert "input_audio_buffer.speech_started" not in kinds  # the client decides turns
    heard = next(e for e in seen if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert "order" in heard["transcript"].lower()
    answers = [e["transcript"] for e in seen if e["type"] == "response.output_audio_transcript.done"]
    assert len(answers) == 2 and "47192" in spoken_digits(answers[1])  # recalled from the spoken turn


def test_tokens_origins_and_the_session_limit_are_enforced_before_any_model_loads(fast_cfg, tmp_path):
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    async def call():
        async with running(fast_cfg, tmp_path, token="s3cret", max_sessions=1) as server:
            url = f"ws://127.0.0.1:{server.port}/v1/realtime?model=parley"
            refused = []
            for headers in ({}, {"Authorization": "Bearer wrong"},
                            {"Authorization": "Bearer s3cret", "Origin": "http://evil.example"}):
                with pytest.raises(InvalidStatus) as exc:
                    async with connect(url, additional_headers=headers):
                        pass
                refused.append(exc.value.response.status_code)
            async with connect(url, additional_headers={"Authorization": "Bearer s3cret"}) as first:
                created = json.loads(await first.recv())
                async with connect(url, subprotocols=["realtime", "openai-insecure-api-key.s3cret"]) as second:
                    over = json.loads(await second.recv())
                    await second.wait_closed()
                    code = second.close_code
            return refused, created, over, code

    refused, created, over, code = asyncio.run(call())
    assert refused == [401, 401, 403]
    STRICT.validate_python(created)
    assert created["type"] == "session.created"
    STRICT.validate_python(over)
    assert over["error"]["code"] == "session_limit_reached" and code == 1013


def test_a_connection_that_starts_no_session_is_closed_and_frees_its_slot(fast_cfg, tmp_path):
    from websockets.asyncio.client import connect

    from parley.transports.realtime.connection import Limits

    async def call():
        async with running(fast_cfg, tmp_path, max_sessions=1, limits=Limits(opening_s=0.3)) as server:
            url = f"ws://127.0.0.1:{server.port}/v1/realtime"
            async with connect(url) as idle:
                seen = [json.loads(await idle.recv()) for _ in range(2)]
                await idle.wait_closed()
            async with connect(url) as next_one:  # the slot is free again
                return seen, json.loads(await next_one.recv())

    (created, timeout), again = asyncio.run(call())
    assert created["type"] == "session.created" and timeout["error"]["code"] == "session_timeout"
    assert again["type"] == "session.created"
    for ev in (created, timeout, again):
        STRICT.validate_python(ev)


def test_listening_off_loopback_without_a_token_is_refused_in_one_sentence(fast_cfg):
    from parley.errors import ParleyError

    with pytest.raises(ParleyError, match="needs a token"):
        RealtimeServer(ServeOptions(cfg=fast_cfg, host="0.0.0.0"))


async def _page_text(cdp_port: int, expression: str) -> str:
    """Evaluate `expression` in the page through the DevTools protocol."""
    import httpx
    from websockets.asyncio.client import connect

    async with httpx.AsyncClient() as http:
        pages = (await http.get(f"http://127.0.0.1:{cdp_port}/json/list")).json()
    page = next(p for p in pages if p["type"] == "page")
    async with connect(page["webSocketDebuggerUrl"], max_size=None) as cdp:
        await cdp.send(json.dumps({"id": 1, "method": "Runtime.evaluate",
                                   "params": {"expression": expression, "returnByValue": True}}))
        while True:
            msg = json.loads(await cdp.recv())
            if msg.get("id") == 1:
                return msg["result"]["result"].get("value") or ""


@pytest.mark.slow
def test_the_talk_page_in_headless_chromium_completes_a_spoken_turn(fast_cfg, user_speech, tmp_path):
    import shutil
    import subprocess

    from parley.audio.wavio import write_wav

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is needed for this test; `make test` installs it (apt-get install chromium)"
    mic = tmp_path / "mic.wav"  # the fake microphone: a pause, the question, then quiet
    quiet = np.zeros(16000, np.float32)
    write_wav(mic, np.concatenate([quiet, user_speech("Hello, do you sell rain jackets?"), quiet, quiet, quiet]), 16000)
    profile = tmp_path / "profile"

    async def call():
        async with running(fast_cfg, tmp_path) as server:
            proc = subprocess.Popen([
                chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={mic}%noloop", "--autoplay-policy=no-user-gesture-required",
                "--remote-debugging-port=0", f"--user-data-dir={profile}",
                f"http://127.0.0.1:{server.port}/?autostart=1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                async with asyncio.timeout(20):
                    while not (profile / "DevToolsActivePort").exists():
                        await asyncio.sleep(0.1)
                await asyncio.sleep(0.3)
                cdp_port = int((profile / "DevToolsActivePort").read_text().split()[0])
                agent = ("document.getElementById('status').textContent.startsWith('listening') && "
                         "document.querySelector('.turn.agent .text:not(.pending)')?.textContent || ''")
                async with asyncio.timeout(90):  # until the reply has been played whole
                    while not (said := await _page_text(cdp_port, agent)):
                        await asyncio.sleep(0.5)
                return said, await _page_text(cdp_port, "document.getElementById('transcript').innerText")
            finally:
                proc.terminate()
                proc.wait(10)

    said, shown = asyncio.run(call())
    assert "jacket" in shown.lower()  # the caller's words as the server heard them
    turn = next(e for e in session_events(tmp_path) if isinstance(e, AgentTurn))
    assert "jacket" in turn.user.lower() and turn.agent.startswith(said.strip()[:10])


@pytest.mark.slow
def test_the_serve_command_loads_once_answers_health_checks_and_stops_on_sigterm(tmp_path):
    import signal
    import subprocess
    import sys

    import httpx

    refused = subprocess.run([sys.executable, "-m", "parley.cli", "serve", "--host", "0.0.0.0"],
                             capture_output=True, text=True, timeout=60, env={**__import__("os").environ, "PARLEY_TOKEN": ""})
    assert refused.returncode == 1 and "needs a token" in refused.stderr and "Traceback" not in refused.stderr
    # started as a script's background job is: with SIGINT ignored (SIGTERM must still stop it)
    proc = subprocess.Popen([sys.executable, "-m", "parley.cli", "serve", "--llm", "fast", "--port", "0",
                             "--max-sessions", "3", "--sessions-dir", str(tmp_path / "s")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        for line in proc.stdout:
            if "ws://" in line:
                break
        port = int(re.search(r"127\.0\.0\.1:(\d+)/v1/realtime", line)[1])
        health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
        page = httpx.get(f"http://127.0.0.1:{port}/")
        missing = httpx.get(f"http://127.0.0.1:{port}/../../etc/passwd")
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert health == {"status": "ok", "sessions": 0, "max_sessions": 3}
    assert page.status_code == 200 and "getUserMedia" not in page.text and "app.js" in page.text
    assert missing.status_code == 404
    assert proc.returncode == 130 and "Traceback" not in err
