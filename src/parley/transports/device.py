"""Local microphone and speaker, when the machine has them.

Uses `sounddevice` (PortAudio) if installed (`pip install parley[device]`). Without the library or
without an input and output device, it fails with one sentence instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path

from parley.config import AgentConfig
from parley.errors import DeviceUnavailableError


def _check_devices():
    try:
        import sounddevice as sd
    except (ImportError, OSError):
        raise DeviceUnavailableError(
            "No audio device support here (sounddevice/PortAudio missing); install `parley[device]` on a "
            "machine with a microphone and speaker, or use `parley demo` to run over the simulated loopback."
        ) from None
    try:
        devices = sd.query_devices()
    except Exception:
        devices = []
    has_in = any(d.get("max_input_channels", 0) > 0 for d in devices)
    has_out = any(d.get("max_output_channels", 0) > 0 for d in devices)
    if not (has_in and has_out):
        raise DeviceUnavailableError(
            "No microphone and speaker were found on this machine; connect audio devices, or use "
            "`parley demo` to run over the simulated loopback."
        )
    return sd


async def run_device_session(cfg: AgentConfig, out_dir: Path | None = None, arch: str = "cascade") -> None:
    """Talk to the agent through the machine's microphone and speaker until Ctrl-C; the session's
    artefacts (recording included) go to `out_dir`."""
    from parley.clock import RealClock
    from parley.session import Session

    transport = DeviceTransport()  # fails with one sentence before any model loads
    async with Session(cfg, arch=arch, clock=RealClock(), out_dir=out_dir, name="talk") as session:
        await transport.run(session)


class DeviceTransport:
    """The sound card as a `Transport`: 32 ms frames both ways, on the session's (real) clock."""

    def __init__(self) -> None:
        self.sd = _check_devices()

    async def run(self, session) -> None:
        import asyncio
        import queue

        import numpy as np

        from parley.audio.frame import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame

        agent, clock = session.agent, session.clock
        session.recorder.origin = clock.now()
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue = asyncio.Queue()
        # The PortAudio callback runs on its own thread: it only exchanges frames through queues;
        # the agent is touched from the event loop alone (one frame of extra output latency).
        outbox: queue.SimpleQueue = queue.SimpleQueue()

        def on_audio(indata, outdata, frames, _time, _status) -> None:
            loop.call_soon_threadsafe(inbox.put_nowait, (clock.now(), indata[:, 0].copy()))
            try:
                outdata[:, 0] = outbox.get_nowait()
            except queue.Empty:
                outdata.fill(0)

        print("Listening — speak; Ctrl-C to stop.")
        with self.sd.Stream(samplerate=SAMPLE_RATE, blocksize=FRAME_SAMPLES, channels=1, dtype="float32",
                            callback=on_audio):
            while True:
                t, pcm = await inbox.get()
                pcm = np.asarray(pcm, dtype=np.float32)
                session.recorder.add_user(t, pcm)
                agent.push_audio(AudioFrame(pcm, SAMPLE_RATE, t))
                out = agent.pull_audio(FRAME_SAMPLES, clock.now())
                session.recorder.add_agent(clock.now(), out)
                outbox.put(out)
