"""A sample office: keys, a directory and a case that runs every main step.

The demo and the tests share it, so what the demo shows is what the tests check. Pure:
it only builds and signs envelopes; storing them is the caller's business.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ledger.client import Signer, StreamWriter, grant_body, matter_body
from ledger.envelope import Envelope, format_time
from ledger.personal import Opening, commit
from ledger.signing import PrivateKey
from ledger.validity import validity_body

__all__ = ["SAMPLE_MATTER", "SampleOffice"]

SAMPLE_MATTER = "XK-370100-001"
# The one material the sample matter requires (the sample application's file is named for it).
SAMPLE_REQUIRED = "食品经营许可申请书"

_STAFF = (
    # principal, name, role, id number (fictitious)
    ("staff:admin", "赵敏", "admin", "370102198001010015"),
    ("staff:wang.li", "王立", "handler", "370102198502020027"),
    ("staff:li.na", "李娜", "reviewer", "370102198703030037"),
    ("staff:zhang.wei", "张伟", "approver", "370102197904040042"),
    ("service:seal", "电子印章服务", "seal_service", "SERVICE-SEAL-0001"),
)


@dataclass
class SampleOffice:
    """An organisation with a root key, an admin, three staff in three grades and a seal service."""

    org: str = "jinan-approval"
    org_name: str = "济南市行政审批服务局"
    root_key: PrivateKey = field(default_factory=PrivateKey.generate)
    keys: dict[str, PrivateKey] = field(default_factory=dict)
    # The openings of the identity commitments its envelopes carry: what the office keeps in
    # its private table, never in a signed body.
    openings: dict[str, Opening] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for principal, *_ in _STAFF:
            self.keys.setdefault(principal, PrivateKey.generate())

    def _enrol(self, principal: str, name: str, id_number: str) -> dict[str, Any]:
        # One salt per person and office, so the directory is the same envelopes each time
        # it is built (the signatures are deterministic).
        opening = next((o for o in self.openings.values() if o.value == id_number), None) or commit(
            id_number
        )
        self.openings[opening.commitment] = opening
        return {
            "staff": principal,
            "name": name,
            "unit": "行政审批科",
            "id_commitment": opening.commitment,
        }

    @property
    def root(self) -> Signer:
        return Signer("staff:admin", "admin", self.root_key)

    def signer(self, principal: str, role: str | None = None) -> Signer:
        default_role = next(r for p, _, r, _ in _STAFF if p == principal)
        return Signer(principal, role or default_role, self.keys[principal])

    @property
    def admin(self) -> Signer:
        return self.signer("staff:admin")

    @property
    def handler(self) -> Signer:
        return self.signer("staff:wang.li")

    @property
    def reviewer(self) -> Signer:
        return self.signer("staff:li.na")

    @property
    def approver(self) -> Signer:
        return self.signer("staff:zhang.wei")

    @property
    def seal_service(self) -> Signer:
        return self.signer("service:seal")

    def directory_envelopes(self, start: datetime) -> list[Envelope]:
        """The directory from nothing: the admin enrolled by the root key, then staff, keys,
        grants valid from ``start`` for a year, and the sample matter."""
        writer = StreamWriter(f"directory:{self.org}")
        tick = _Clock(start)
        out = [
            writer.sign(
                "StaffEnrolled", self.root, tick(), self._enrol(*_STAFF[0][:2], _STAFF[0][3])
            ),
            writer.sign("KeyAdded", self.root, tick(), _key("staff:admin", self.admin.key)),
            writer.sign(
                "RoleGranted",
                self.root,
                tick(),
                grant_body("g-admin", "staff:admin", "admin", valid_from=start),
            ),
        ]
        for principal, name, role, id_number in _STAFF[1:]:
            out.append(
                writer.sign(
                    "StaffEnrolled", self.admin, tick(), self._enrol(principal, name, id_number)
                )
            )
            out.append(
                writer.sign("KeyAdded", self.admin, tick(), _key(principal, self.keys[principal]))
            )
            out.append(
                writer.sign(
                    "RoleGranted",
                    self.admin,
                    tick(),
                    grant_body(
                        f"g-{principal.split(':')[1]}",
                        principal,
                        role,
                        valid_from=start,
                        valid_until=start + timedelta(days=366),
                    ),
                )
            )
        out.append(
            writer.sign(
                "MatterDefined",
                self.admin,
                tick(),
                matter_body(
                    SAMPLE_MATTER,
                    "食品经营许可证核发",
                    required_materials=(SAMPLE_REQUIRED,),
                ),
            )
        )
        return out

    def case_until_decided(
        self,
        start: datetime,
        case_id: uuid.UUID | None = None,
        applicant_name: str = "济南泉城食品有限公司",
    ) -> list[Envelope]:
        """A case applied at the window, accepted, reviewed and approved: three different staff."""
        writer = StreamWriter(f"case:{case_id or uuid.uuid4()}")
        tick = _Clock(start, step=timedelta(minutes=7))
        return [
            writer.sign("Applied", self.handler, tick(), applied_body(applicant_name)),
            writer.sign(
                "Accepted", self.handler, tick(), {"opinion": "材料齐全，符合法定形式，予以受理。"}
            ),
            writer.sign(
                "Reviewed",
                self.reviewer,
                tick(),
                {
                    "level": 1,
                    "opinion": "agree",
                    "comments": "经审查，申请人符合许可条件。",
                    "basis": "《食品经营许可和备案管理办法》",
                },
            ),
            writer.sign("Decided", self.approver, tick(), decided_body(start)),
        ]


SAMPLE_MATERIAL = "食品经营许可申请书.pdf"


def sample_material_files() -> dict[str, bytes]:
    """The sample application's files by SHA-256, as the office keeps them. (The sample's
    one file is a stand-in whose bytes are its name.)"""
    data = SAMPLE_MATERIAL.encode()
    return {hashlib.sha256(data).hexdigest(): data}


def applied_body(applicant_name: str) -> dict[str, Any]:
    material = SAMPLE_MATERIAL
    return {
        "matter": {"code": SAMPLE_MATTER, "version": 1},
        "applicant": {
            "kind": "organisation",
            "name": applicant_name,
            "id_number": "91370100MA3C000001",
        },
        "materials": [{"name": material, "sha256": hashlib.sha256(material.encode()).hexdigest()}],
        "channel": "window",
    }


def decided_body(start: datetime) -> dict[str, Any]:
    return {
        "outcome": "approved",
        "decision": "准予行政许可，核发《食品经营许可证》。",
        "legal_basis": "《中华人民共和国行政许可法》第三十八条第一款",
        "licence_number": "JY13701000000123",
        "scope": ["预包装食品（含冷藏冷冻食品）销售", "热食类食品制售"],
        "validity": {name: format_time(at) for name, at in validity_body(start, years=5).items()},
    }


def _key(principal: str, key: PrivateKey) -> dict[str, Any]:
    return {"staff": principal, "public_key": key.public_key_b64}


class _Clock:
    def __init__(self, start: datetime, step: timedelta = timedelta(seconds=1)) -> None:
        self.now, self.step = start, step

    def __call__(self) -> datetime:
        current = self.now
        self.now += self.step
        return current
