"""Violations: why the rules do not admit a step, as data with stable codes."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CODES", "Violation"]

# Stable codes: programs, tests and auditors match on these, never on the detail text.
CODES: dict[str, str] = {
    "sig.invalid": "the signature does not verify under the actor's key",
    "sig.unknown_key": "the signing key is not known for this actor",
    "chain.prev_mismatch": "prev is not the hash of the stream's previous envelope",
    "chain.seq_mismatch": "seq is not the next position in the stream",
    "chain.stream_mismatch": "the envelope names another stream",
    "chain.time_reversed": "the step is dated before the step it follows",
    "order.not_allowed": "this step may not follow the case's current state",
    "body.invalid": "the step's body lacks a required field or has a wrong value",
    "body.personal_data": "a person's identity number or phone stands in clear in the body",
    "body.commitment": "a person's id_commitment is missing or not of the pc1: form",
    "matter.unknown": "the matter (or its version) is not defined in the directory",
    "role.missing": "the actor does not hold this role for this matter at this time",
    "role.expired": "the actor's grant for this role had ended (or not begun) at this time",
    "role.revoked": "the actor's grant for this role had been revoked at this time",
    "role.qualification": "the matter requires a qualification the actor's grant lacks",
    "role.wrong_for_step": "the step needs another role than the one the actor claims",
    "key.revoked": "the key was revoked before this signature's time",
    "key.revoked_at_admission": "the key had been revoked when the step reached the server",
    "role.revoked_at_admission": "the actor's grant had been revoked when the step arrived",
    "key.not_yet_active": "the key was added after this signature's time",
    "key.wrong_owner": "the key belongs to someone else",
    "materials.missing": "accepted while a required material is missing (受理缺少必需材料)",
    "materials.tolerance": "a 容缺 record the matter does not allow",
    "promise.not_allowed": "a 告知承诺 the matter does not allow, or without its declarations",
    "promise.barred": "the applicant is barred from 告知承诺 after a false promise",
    "tolerance.deadline": "容缺 materials after their deadline, or a termination before it",
    "duty.same_person": "one person would act in two capacities on the case",
    "duty.own_case": "a staff member acts on a case where they are the applicant",
    "directory.not_admin": "a directory change not signed by an admin or the root key",
    "directory.root_required": "the directory's first envelope must be signed by a root key",
    "directory.invalid": "the directory change contradicts the directory",
    "envelope.malformed": "the stored text is not a well-formed envelope",
    "store.hash_mismatch": "the stored envelope hash is not the hash of the stored text",
}


@dataclass(frozen=True, slots=True)
class Violation:
    """One reason a step is not admitted: a stable ``code`` and a human ``detail``."""

    code: str
    detail: str

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown violation code {self.code!r}")

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}
