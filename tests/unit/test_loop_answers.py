"""The writer thread's answers reach their event loop, one wake of the loop per burst."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from ledger.store.loop_answers import LoopAnswers, answers_for


def test_a_burst_of_answers_wakes_the_loop_once_and_each_future_gets_its_own() -> None:
    async def run() -> tuple[list[object], int]:
        loop = asyncio.get_running_loop()
        wakes = 0
        schedule = loop.call_soon_threadsafe

        def counted(callback: Any, *args: Any) -> Any:
            nonlocal wakes
            wakes += 1
            return schedule(callback, *args)

        loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
        answers: LoopAnswers[object] = LoopAnswers(loop)
        futures = [loop.create_future() for _ in range(50)]
        for number, future in enumerate(futures):
            answers.hand_back(future, number)  # the loop cannot run before the await
        return list(await asyncio.gather(*futures)), wakes

    got, wakes = asyncio.run(run())
    assert got == list(range(50))
    assert wakes == 1


def test_answers_from_other_threads_all_arrive_and_a_cancelled_wait_is_skipped() -> None:
    async def run() -> list[object]:
        loop = asyncio.get_running_loop()
        answers = answers_for(loop)
        assert answers_for(loop) is answers
        futures = [loop.create_future() for _ in range(400)]
        futures[7].cancel()

        def writer(part: int) -> None:
            for number in range(part, len(futures), 4):
                answers.hand_back(futures[number], number)

        threads = [threading.Thread(target=writer, args=(part,)) for part in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            await asyncio.to_thread(thread.join)
        return list(await asyncio.gather(*futures, return_exceptions=True))

    got = asyncio.run(run())
    assert isinstance(got[7], asyncio.CancelledError)
    assert [g for n, g in enumerate(got) if n != 7] == [n for n in range(400) if n != 7]


def test_an_answer_for_a_closed_loop_is_dropped_quietly() -> None:
    loop = asyncio.new_event_loop()
    future = loop.create_future()
    loop.close()
    LoopAnswers(loop).hand_back(future, "late")
    assert not future.done()
