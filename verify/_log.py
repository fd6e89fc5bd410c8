"""The log checks of a receipt: the checkpoint's signature, its witnesses, and the inclusion of
every envelope in the tree that checkpoint commits to.

Formats and proof arithmetic come from :mod:`ledger.checkpoint` and :mod:`ledger.merkle`
(C2SP tlog-checkpoint, tlog-cosignature and tlog-proof; RFC 9162 hashing). The leaf of an
envelope is its 32-byte hash, never the envelope.
"""

from __future__ import annotations

from ledger.checkpoint import (
    Checkpoint,
    CheckpointInvalid,
    NoteMalformed,
    VerifierKey,
    parse_checkpoint,
    parse_tlog_proof,
    verify_checkpoint,
    verify_cosignatures,
)
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.merkle import ProofInvalid, leaf_hash, verify_consistency, verify_inclusion
from ledger.receipt import Receipt
from ledger.signing import b64decode_strict
from ledger.trust import TrustFile
from verify.texts import detail, reason
from verify.verdict import Check, InputUnreadable, Status, failed, indeterminate, passed

__all__ = ["check_checkpoint", "check_log", "log_keys"]

_SHOWN = 5


def log_keys(trust: TrustFile) -> tuple[VerifierKey, tuple[VerifierKey, ...]]:
    """The trust file's log verifier key and witness keys. Raises InputUnreadable if one is
    not a signed-note verifier key (a trust file that names no usable key checks nothing)."""
    try:
        log_key = VerifierKey.from_string(trust.log_verifier_key)
        witnesses = tuple(VerifierKey.from_string(k) for k in trust.witness_keys)
    except NoteMalformed as exc:
        raise InputUnreadable(f"the trust file's log or witness key is malformed: {exc}") from None
    return log_key, witnesses


def check_checkpoint(text: str, trust: TrustFile) -> tuple[Check, Check, Checkpoint | None]:
    """checkpoint.signature and checkpoint.witnesses for the note ``text``, and the checkpoint
    if the trust file's log key signed it (None otherwise). Never raises for a bad note."""
    log_key, witnesses = log_keys(trust)
    try:
        checkpoint = verify_checkpoint(text, [log_key], origin=trust.log_origin)
    except NoteMalformed as exc:
        unreadable = detail("checkpoint.unreadable", why=reason(exc))
        not_checked = indeterminate("checkpoint.witnesses", detail("witnesses.not_checked"))
        return failed("checkpoint.signature", unreadable), not_checked, None
    except CheckpointInvalid as exc:
        invalid = failed("checkpoint.signature", detail("checkpoint.invalid", why=reason(exc)))
        return invalid, _witnesses(text, trust, witnesses), None
    signature = passed(
        "checkpoint.signature",
        detail("checkpoint.signed", origin=trust.log_origin, size=checkpoint.size),
    )
    return signature, _witnesses(text, trust, witnesses), checkpoint


def _witnesses(text: str, trust: TrustFile, witnesses: tuple[VerifierKey, ...]) -> Check:
    try:
        found = verify_cosignatures(text, witnesses, trust.witness_quorum)
    except CheckpointInvalid as exc:
        return failed("checkpoint.witnesses", detail("checkpoint.invalid", why=reason(exc)))
    except NoteMalformed as exc:
        return failed("checkpoint.witnesses", detail("checkpoint.unreadable", why=reason(exc)))
    if trust.witness_quorum == 0:
        return passed("checkpoint.witnesses", detail("witnesses.none_required", count=len(found)))
    names = ", ".join(c.name for c in found)
    cosigned = detail(
        "witnesses.cosigned",
        count=len(found),
        total=len(witnesses),
        names=names,
        quorum=trust.witness_quorum,
    )
    return passed("checkpoint.witnesses", cosigned)


def _witnessed(receipt: Receipt, trust: TrustFile, checkpoint: Checkpoint) -> Check | None:
    """checkpoint.witnesses from the receipt's witnessed checkpoint: cosigned by the quorum
    and extended by the receipt's own checkpoint (consistency proof). None if it has none."""
    if receipt.witnessed is None:
        return None
    log_key, witnesses = log_keys(trust)
    try:
        seen = verify_checkpoint(receipt.witnessed, [log_key], origin=trust.log_origin)
        found = verify_cosignatures(receipt.witnessed, witnesses, trust.witness_quorum)
        hashes = [b64decode_strict(h, what="a proof hash") for h in receipt.witnessed_consistency]
        if seen.size == 0 or seen.size > checkpoint.size:
            raise ProofInvalid("the witnessed checkpoint is not an earlier tree of this one")
        verify_consistency(seen.size, checkpoint.size, seen.root, checkpoint.root, hashes)
    except CaseLedgerError as exc:
        return failed("checkpoint.witnesses", detail("witnesses.witnessed_bad", why=reason(exc)))
    names = ", ".join(c.name for c in found)
    witnessed = detail(
        "witnesses.witnessed",
        count=len(found),
        names=names,
        quorum=trust.witness_quorum,
        seen=seen.size,
        size=checkpoint.size,
    )
    return passed("checkpoint.witnesses", witnessed)


def check_log(receipt: Receipt, trust: TrustFile) -> tuple[Check, Check, Check]:
    """receipt.inclusion, checkpoint.signature and checkpoint.witnesses for ``receipt``."""
    signature, witnesses, checkpoint = check_checkpoint(receipt.checkpoint, trust)
    if checkpoint is not None and witnesses.status is not Status.PASSED:
        witnesses = _witnessed(receipt, trust, checkpoint) or witnesses
    if checkpoint is None:
        # Without a trusted root, a proof would only prove membership in a tree anyone made.
        try:
            unverified: Checkpoint | None = parse_checkpoint(receipt.checkpoint).checkpoint
        except NoteMalformed:
            unverified = None
        if unverified is None:
            inclusion = indeterminate("receipt.inclusion", detail("inclusion.not_checked"))
        else:
            inclusion = _inclusion(receipt, unverified, trusted=False)
    else:
        inclusion = _inclusion(receipt, checkpoint, trusted=True)
    return inclusion, signature, witnesses


def _inclusion(receipt: Receipt, checkpoint: Checkpoint, *, trusted: bool) -> Check:
    envelopes = (*receipt.directory, *receipt.envelopes)
    problems = [p for env in envelopes if (p := _one_proof(receipt, env, checkpoint))]
    if problems:
        shown = problems[:_SHOWN]
        if len(problems) > _SHOWN:
            shown.append(detail("inclusion.more", count=len(problems) - _SHOWN))
        return failed("receipt.inclusion", detail("inclusion.found", problems="; ".join(shown)))
    if not envelopes:
        return failed("receipt.inclusion", detail("inclusion.empty"))
    if not trusted:
        return indeterminate(
            "receipt.inclusion", detail("inclusion.untrusted", count=len(envelopes))
        )
    return passed(
        "receipt.inclusion", detail("inclusion.all", count=len(envelopes), size=checkpoint.size)
    )


def _one_proof(receipt: Receipt, env: Envelope, checkpoint: Checkpoint) -> str | None:
    where = f"{env.stream.split(':')[0]} seq {env.seq}"
    text = receipt.proofs.get(env.hash)
    if text is None:
        return detail("inclusion.no_proof", where=where)
    try:
        proof = parse_tlog_proof(text)
        own = parse_checkpoint(proof.checkpoint).checkpoint
    except NoteMalformed as exc:
        return detail("inclusion.proof_unreadable", where=where, why=reason(exc))
    if own != checkpoint:
        return detail("inclusion.other_size", where=where, size=own.size)
    if proof.checkpoint != receipt.checkpoint:
        # The copy in the proof is not what was verified; a receipt has one checkpoint.
        return detail("inclusion.other_copy", where=where)
    try:
        verify_inclusion(
            proof.index,
            checkpoint.size,
            leaf_hash(bytes.fromhex(env.hash)),
            proof.hashes,
            checkpoint.root,
        )
    except ProofInvalid as exc:
        return detail("inclusion.invalid", where=where, why=reason(exc))
    except (CaseLedgerError, ValueError) as exc:
        return detail("inclusion.unchecked", where=where, why=exc)
    return None
