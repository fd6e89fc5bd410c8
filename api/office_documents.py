"""What an office configures about its documents: 文号 patterns, names in the notices.

Kept in ``org.json`` under ``"documents"`` (every key optional; the defaults below apply)::

    "documents": {
      "prefix": "济审批",
      "numbers": {"approval": "{prefix}许准〔{year}〕{number}号", ...},
      "contact": "0531-00000000",
      "auto_notices": true
    }

``auto_notices`` makes the server issue a notice as soon as the step it answers is stored
(受理通知书 on Accepted, …); without it an office issues them from its own tooling through
``api.notices``. The 复议机关 and court are the organisation's own (top of org.json).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.errors import CaseLedgerError

__all__ = ["DOCUMENT_KINDS", "DocumentKind", "OfficeDocuments"]


@dataclass(frozen=True, slots=True)
class DocumentKind:
    """One type of document: its title, the step it answers and its default 文号 pattern."""

    name: str
    title: str
    answers: str
    number_pattern: str


DOCUMENT_KINDS: dict[str, DocumentKind] = {
    kind.name: kind
    for kind in (
        DocumentKind("acceptance", "受理通知书", "Accepted", "{prefix}受〔{year}〕{number}号"),
        DocumentKind(
            "supplement", "补正材料通知书", "SupplementRequested", "{prefix}补〔{year}〕{number}号"
        ),
        DocumentKind(
            "not_accepted", "不予受理通知书", "NotAccepted", "{prefix}不受〔{year}〕{number}号"
        ),
        DocumentKind("extension", "延期通知书", "Extended", "{prefix}延〔{year}〕{number}号"),
        DocumentKind(
            "approval", "准予行政许可决定书", "Decided", "{prefix}许准〔{year}〕{number}号"
        ),
        DocumentKind(
            "denial", "不予行政许可决定书", "Decided", "{prefix}许不准〔{year}〕{number}号"
        ),
        DocumentKind(
            "revocation", "撤销行政许可决定书", "ResultRevoked", "{prefix}撤〔{year}〕{number}号"
        ),
    )
}


class DocumentSettingsError(CaseLedgerError):
    code = "org.documents_invalid"


@dataclass(frozen=True)
class OfficeDocuments:
    """The ``documents`` settings of one organisation folder."""

    prefix: str
    numbers: dict[str, str] = field(default_factory=dict)
    review_body: str = ""
    court: str = ""
    contact: str = ""
    auto_notices: bool = False

    @classmethod
    def load(cls, home_path: Path, org_name: str) -> OfficeDocuments:
        """Read ``org.json``; raise DocumentSettingsError if its ``documents`` is unusable."""
        meta = json.loads((home_path / "org.json").read_text(encoding="utf-8"))
        data: Any = meta.get("documents") or {}
        if not isinstance(data, dict):
            raise DocumentSettingsError("org.json documents must be an object")
        numbers = data.get("numbers") or {}
        if not isinstance(numbers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in numbers.items()
        ):
            raise DocumentSettingsError("org.json documents.numbers maps a type to a pattern")
        settings = cls(
            prefix=str(data.get("prefix") or org_name[:2]),
            numbers=dict(numbers),
            # The 复议机关 and court are the organisation's (``caseledger init --review-body
            # --court`` writes them at the top of org.json); ``documents`` may only override.
            review_body=str(data.get("review_body") or meta.get("review_body") or ""),
            court=str(data.get("court") or meta.get("court") or ""),
            contact=str(data.get("contact", "")),
            auto_notices=bool(data.get("auto_notices", False)),
        )
        for kind in DOCUMENT_KINDS:
            settings.number_text(kind, 2026, 1)  # refuse a broken pattern now, not mid-issue
        return settings

    @staticmethod
    def save(home_path: Path, documents: dict[str, Any]) -> None:
        """Set the ``documents`` settings in ``org.json`` (the other keys are kept)."""
        path = home_path / "org.json"
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta["documents"] = documents
        path.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")

    def number_text(self, doc_type: str, year: int, number: int) -> str:
        """The printed 文号, e.g. 济审批许准〔2026〕123号."""
        pattern = self.numbers.get(doc_type) or DOCUMENT_KINDS[doc_type].number_pattern
        try:
            return pattern.format(prefix=self.prefix, year=year, number=number)
        except (KeyError, IndexError, ValueError) as exc:
            raise DocumentSettingsError(
                f"the 文号 pattern of {doc_type} ({pattern!r}) may use only "
                f"{{prefix}}, {{year}} and {{number}}: {exc}"
            ) from None
