"""What the ledger stores per envelope and answers per append."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import register_topic

from ledger.envelope import Envelope

__all__ = ["AppendResult", "CommitListener", "EnvelopeRecorded", "stream_uuid"]

_STREAM_NAMESPACE = uuid.UUID("6a1f0c52-8d8e-4b53-9d7e-3c2a1f6b9e10")


@dataclass(frozen=True)
class EnvelopeRecorded(DomainEvent):
    """One envelope of one stream, as its signer signed it (``envelope`` is the JCS text)."""

    envelope: str
    hash: str


register_topic("caseledger:EnvelopeRecorded:v1", EnvelopeRecorded)


def stream_uuid(stream: str) -> uuid.UUID:
    """The eventsourcing originator id of a stream name."""
    if stream.startswith("case:"):
        return uuid.UUID(stream[len("case:") :])
    return uuid.uuid5(_STREAM_NAMESPACE, stream)


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where an admitted envelope now stands."""

    stream: str
    seq: int
    hash: str
    position: int | None
    replayed: bool = False
    leaf_index: int | None = None
    # The log's size once the batch that logged this envelope committed.
    tree_size: int | None = None
    # The envelope itself, so that what follows the ledger decides from its type and body
    # without reading it back from the store.
    envelope: Envelope = field(kw_only=True, compare=False, repr=False)


class CommitListener(Protocol):
    """What follows the ledger's commits (see :mod:`ledger.store.followers`): woken after
    every commit, and told of every envelope answered "replayed" (the first attempt may have
    been cut short by a crash before its followers ran)."""

    def wake(self) -> None: ...

    def replayed(self, result: AppendResult) -> None: ...
