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
its SQLite recorder — our embedded default — does not offer; the ledger's ``after_append``
hook and a catch-up on start and before reads do that job on both backends.
"""

from ledger.store.read_models.store import (
    READ_MODEL_METADATA,
    TRACKING_NAME,
    ReadModels,
    rm_cases,
    rm_tracking,
)
from ledger.store.read_models.summary import (
    CaseFold,
    CaseSummary,
    case_number,
    fold_case,
    summarise,
    summary_of,
)

__all__ = [
    "READ_MODEL_METADATA",
    "TRACKING_NAME",
    "CaseFold",
    "CaseSummary",
    "ReadModels",
    "case_number",
    "fold_case",
    "rm_cases",
    "rm_tracking",
    "summarise",
    "summary_of",
]
