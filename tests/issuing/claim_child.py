"""A child process claiming 文号 for many documents on one database (the two-process test)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from ledger.store.doc_numbers import DocumentNumbers
from ledger.store.storage import open_store


def main() -> None:
    db, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    numbers = DocumentNumbers(open_store(db).engine(), "jinan-approval")
    at = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    got = [numbers.claim("approval", 2026, f"case:{tag}-{i}", "h", at).number for i in range(count)]
    print(json.dumps(got))


if __name__ == "__main__":
    main()
