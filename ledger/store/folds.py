"""The folded states the ledger's writer checks each envelope against.

The directory and the most recently used cases, folded from their streams, with the store
position up to which they reflect every write. The writer keeps them current with its own
batches; when another process wrote in between, only the streams it wrote are read again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.state import CaseState

__all__ = ["FoldedStreams", "StreamReader"]

# Reads a stream's stored envelopes after a seq: ``read(stream, gt)``.
StreamReader = Callable[[str, int], Iterable[Envelope]]


class FoldedStreams:
    """The folded directory of ``org`` and up to ``max_cases`` folded cases."""

    def __init__(
        self,
        org: str,
        root_keys: dict[str, bytes],
        read: StreamReader,
        *,
        max_cases: int = 10_000,
    ) -> None:
        self._org, self._root_keys, self._read = org, root_keys, read
        self.directory = DirectoryState(org=org, root_keys=root_keys)
        self.cases: OrderedDict[str, CaseState] = OrderedDict()
        # The store position (notification id) up to which the folds reflect every write;
        # -1 when unknown.
        self.position = -1
        self._max_cases = max_cases

    @property
    def directory_stream(self) -> str:
        return f"directory:{self._org}"

    def case(self, stream: str, seq: int, read: StreamReader | None = None) -> CaseState:
        """The case's fold before an envelope at ``seq`` (read from the store if not kept,
        with ``read`` if given: the writer reads on its own connection)."""
        state = self.cases.get(stream)
        if state is not None:
            return state
        if seq == 1:
            # A first step needs no read: if the stream already exists after all, the
            # store's key refuses the save and the append answers replayed or stale.
            return CaseState.empty(stream)
        return self.refreshed_case(stream, read)

    def kept_seq(self, stream: str) -> int:
        """The seq of the kept fold of ``stream`` (0 when none is kept)."""
        if stream == self.directory_stream:
            return self.directory.seq
        state = self.cases.get(stream)
        return state.seq if state is not None else 0

    def caught_up_directory(self, since: int, later: Iterable[Envelope]) -> DirectoryState:
        """The directory with ``later`` applied where it lacks them: the stored envelopes
        after ``since`` that a reader read without the lock, while the fold may have moved on
        (those it has are skipped) or been dropped (then it is read again)."""
        directory = self.directory
        if directory.seq < since:
            return self.refreshed_directory()
        for env in later:
            if env.seq > directory.seq + 1:
                return self.refreshed_directory()
            if env.seq == directory.seq + 1:
                directory.apply(env)
        return directory

    def caught_up_case(self, stream: str, since: int, later: Iterable[Envelope]) -> CaseState:
        """The case with ``later`` applied where it lacks them (as :meth:`caught_up_directory`;
        ``since`` is 0 for a case that was not kept)."""
        state = self.cases.get(stream)
        if state is None and since == 0:
            state = CaseState.empty(stream)
        if state is None or state.seq < since:
            return self.refreshed_case(stream)
        for env in later:
            if env.seq > state.seq + 1:
                return self.refreshed_case(stream)
            if env.seq == state.seq + 1:
                state = state.apply(env)
        self.remember(state)
        return state

    def refreshed_directory(self, read: StreamReader | None = None) -> DirectoryState:
        directory = self.directory
        for env in (read or self._read)(self.directory_stream, directory.seq):
            directory.apply(env)
        return directory

    def refreshed_case(self, stream: str, read: StreamReader | None = None) -> CaseState:
        state = self.cases.get(stream) or CaseState.empty(stream)
        for env in (read or self._read)(stream, state.seq):
            state = state.apply(env)
        self.remember(state)
        return state

    def remember(self, state: CaseState) -> None:
        self.cases[state.stream] = state
        self.cases.move_to_end(state.stream)
        while len(self.cases) > self._max_cases:
            self.cases.popitem(last=False)

    def written_elsewhere(
        self, latest: int, streams: set[str] | None, read: StreamReader | None = None
    ) -> None:
        """Others wrote ``streams`` (None: unknown, maybe any) up to position ``latest``:
        drop those folds (read again on use) and read the directory on (with ``read``)."""
        if streams is None:
            self.cases.clear()
        else:
            for stream in streams:
                self.cases.pop(stream, None)
        self.refreshed_directory(read)
        self.position = latest

    def forget_all(self) -> None:
        self.position = -1
        self.directory = DirectoryState(org=self._org, root_keys=self._root_keys)
        self.cases.clear()

    def forget(self, stream: str) -> None:
        self.position = -1
        if stream.startswith("directory:"):
            self.directory = DirectoryState(org=self._org, root_keys=self._root_keys)
        else:
            self.cases.pop(stream, None)
