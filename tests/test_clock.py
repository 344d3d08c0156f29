import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from parley.cancel import CancelToken
from parley.clock import VirtualClock


def test_virtual_clock_orders_sleepers_and_charges_measured_compute():
    async def main():
        clock = VirtualClock()
        await clock.start()
        seen = []
        ex = ThreadPoolExecutor(1)

        async def sleeper(name, dt):
            await clock.sleep(dt)
            seen.append((name, clock.now()))

        async def worker():
            await clock.compute(ex, time.sleep, 0.05)
            seen.append(("compute", clock.now()))

        wall = time.perf_counter()
        await asyncio.gather(sleeper("late", 100.0), sleeper("early", 1.0), worker())
        wall = time.perf_counter() - wall
        await clock.stop()
        return seen, wall

    seen, wall = asyncio.run(main())
    names = [n for n, _ in seen]
    assert names == ["compute", "early", "late"]
    assert 0.05 <= seen[0][1] < 0.5  # charged the measured wall time of the call
    assert seen[2][1] == 100.0
    assert wall < 5.0  # 100 simulated seconds did not take 100 real ones


def test_virtual_stream_delivers_items_at_their_production_times():
    def gen():
        for i in range(3):
            time.sleep(0.02)
            yield i

    async def main():
        clock = VirtualClock()
        await clock.start()
        out = []
        async for item in clock.stream(ThreadPoolExecutor(1), gen, CancelToken()):
            out.append((item, clock.now()))
        await clock.stop()
        return out

    out = asyncio.run(main())
    assert [i for i, _ in out] == [0, 1, 2]
    assert out[0][1] < out[1][1] < out[2][1]
