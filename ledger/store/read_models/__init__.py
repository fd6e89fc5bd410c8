"""Read models: case summaries the service reads (queues, deadlines, public status).

One SQLAlchemy Core definition (tables prefixed ``rm_``) serves SQLite and PostgreSQL. The
models follow the ledger's notification log in order: :meth:`ReadModels.catch_up` reads the
envelopes after the tracked position, folds each touched case from its stored envelopes up to
the last one seen, and writes the summaries and the new position in one transaction. The
position only moves forward from the value it was read at, so two followers (threads or
processes) never both apply a batch, and replaying a batch changes nothing: it is idempotent.

:class:`ReadModels` is an eventsourcing ``TrackingRecorder`` (positions are eventsourcing
``Tracking`` values, and ``wait()`` works as for any tracking recorder). eventsourcing's
``ProjectionRunner`` is not used: it needs a subscription to the application recorder, which
its SQLite recorder — our embedded default — does not offer; the ledger wakes its listener
after every commit, and a catch-up on start and before reads does that job on both backends.

One case whose summary cannot be made or stored is *set aside* (``rm_set_aside``: the step,
position and a stable code) and left out, so it never stops the summaries of the others, the
reads or the server's start; :meth:`ReadModels.retry_set_aside` (run on every start) takes
such cases back once they fold.
"""

from ledger.store.read_models.set_aside import SetAside, set_aside_in
from ledger.store.read_models.store import TRACKING_NAME, ReadModels
from ledger.store.read_models.summary import (
    CaseFold,
    CaseSummary,
    case_number,
    fold_case,
    summarise,
    summary_of,
)
from ledger.store.read_models.tables import (
    READ_MODEL_METADATA,
    rm_cases,
    rm_results,
    rm_set_aside,
    rm_tracking,
)

__all__ = [
    "READ_MODEL_METADATA",
    "TRACKING_NAME",
    "CaseFold",
    "CaseSummary",
    "ReadModels",
    "SetAside",
    "case_number",
    "fold_case",
    "rm_cases",
    "rm_results",
    "rm_set_aside",
    "rm_tracking",
    "set_aside_in",
    "summarise",
    "summary_of",
]
