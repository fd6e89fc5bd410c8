"""Fuzzing for a bounded time: mutated PDFs and bundles never crash the verifier, and a
mutation of anything the seal or the record vouches for never passes.

Mutations after the sealed revision (the validation-data update) may be harmless, such as a
changed blank, so for those only "no exception escapes" is asserted.
"""

from __future__ import annotations

import contextlib
import json

import pdf_attacks as attacks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from verifykit import CHECK_AT

from ledger.trust import TrustFile
from verify import InputUnreadable, Verdict, verify_bundle, verify_pdf

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _judge_pdf(data: bytes, trust: TrustFile) -> Verdict | None:
    try:
        return verify_pdf(data, trust, at=CHECK_AT)
    except InputUnreadable:
        return None


def _signed_end(pdf: bytes) -> int:
    _, _, c, d, _ = attacks.byte_range(pdf)
    return c + d


@FUZZ
@given(data=st.data())
def test_a_flipped_byte_in_the_sealed_revision_never_passes(
    data: st.DataObject, genuine: bytes, trust: TrustFile
) -> None:
    at = data.draw(st.integers(0, _signed_end(genuine) - 1), label="offset")
    bit = data.draw(st.integers(0, 7), label="bit")
    mutated = genuine[:at] + bytes([genuine[at] ^ (1 << bit)]) + genuine[at + 1 :]
    verdict = _judge_pdf(mutated, trust)
    assert verdict is None or verdict.verdict != "PASSED", f"offset {at} bit {bit}"


@FUZZ
@given(data=st.data())
def test_bytes_cut_or_inserted_in_the_sealed_revision_never_pass(
    data: st.DataObject, genuine: bytes, trust: TrustFile
) -> None:
    end = _signed_end(genuine)
    at = data.draw(st.integers(0, end - 1), label="offset")
    if data.draw(st.booleans(), label="insert"):
        chunk = data.draw(st.binary(min_size=1, max_size=64), label="inserted")
        mutated = genuine[:at] + chunk + genuine[at:]
    else:
        length = data.draw(st.integers(1, 256), label="cut")
        mutated = genuine[:at] + genuine[at + length :]
    verdict = _judge_pdf(mutated, trust)
    assert verdict is None or verdict.verdict != "PASSED"


@FUZZ
@given(data=st.data())
def test_any_mutation_anywhere_gives_a_verdict_or_unreadable(
    data: st.DataObject, genuine: bytes, trust: TrustFile
) -> None:
    at = data.draw(st.integers(0, len(genuine)), label="offset")
    chunk = data.draw(st.binary(max_size=32), label="replacement")
    length = data.draw(st.integers(0, 64), label="replaced")
    mutated = genuine[:at] + chunk + genuine[at + length :]
    if mutated == genuine:
        return
    verdict = _judge_pdf(mutated, trust)  # must not raise anything else
    if verdict is not None and verdict.verdict == "PASSED":
        # Only a change after the sealed revision can leave every check passing.
        assert at >= _signed_end(genuine)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(blob=st.binary(max_size=2048))
def test_arbitrary_bytes_are_never_a_crash_nor_a_pass(blob: bytes, trust: TrustFile) -> None:
    for data in (blob, b"%PDF-1.7\n" + blob, b"%PDF-1.7\n" + blob + b"\n%%EOF\n"):
        verdict = _judge_pdf(data, trust)
        assert verdict is None or verdict.verdict != "PASSED"
        with contextlib.suppress(InputUnreadable):
            assert verify_bundle(data, trust).verdict != "PASSED"


def _bundle_mutations() -> st.SearchStrategy[tuple[str, int, int, str]]:
    return st.tuples(
        st.sampled_from(["envelopes", "directory", "proofs", "checkpoint"]),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
        st.sampled_from(["flip", "drop", "swap", "duplicate"]),
    )


def _mutate_bundle(obj: dict[str, object], how: tuple[str, int, int, str]) -> None:
    member, i, j, action = how
    if member == "checkpoint":
        text = str(obj["checkpoint"])
        at = i % len(text)
        obj["checkpoint"] = text[:at] + chr(ord(text[at]) ^ 1) + text[at + 1 :]
        return
    if member == "proofs":
        proofs = dict(obj["proofs"])  # type: ignore[call-overload]
        key = sorted(proofs)[i % len(proofs)]
        text = proofs[key]
        at = j % len(text)
        proofs[key] = text[:at] + chr(ord(text[at]) ^ 1) + text[at + 1 :]
        obj["proofs"] = proofs
        return
    items = list(obj[member])  # type: ignore[call-overload]
    a, b = i % len(items), j % len(items)
    if action == "flip":
        at = j % len(items[a])
        items[a] = items[a][:at] + chr(ord(items[a][at]) ^ 1) + items[a][at + 1 :]
    elif action == "drop":
        del items[a]
    elif action == "swap" and a != b:
        items[a], items[b] = items[b], items[a]
    else:
        items.insert(a, items[b])
    obj[member] = items


@settings(max_examples=150, deadline=None, derandomize=True)
@given(how=_bundle_mutations())
def test_a_mutated_bundle_never_passes(
    how: tuple[str, int, int, str], bundle: bytes, trust: TrustFile
) -> None:
    obj = json.loads(bundle)
    _mutate_bundle(obj, how)
    mutated = json.dumps(obj, ensure_ascii=False).encode()
    if json.loads(mutated) == json.loads(bundle):
        return  # a swap of equal items changes nothing
    try:
        verdict = verify_bundle(mutated, trust)
    except InputUnreadable:
        return
    if _is_earlier_history(obj, json.loads(bundle)):
        # Leaving the last steps out gives the genuine history of an earlier moment, which no
        # verifier can tell apart; the verdict must then show exactly the steps it checked.
        assert [t.seq for t in verdict.timeline] == list(range(1, len(obj["envelopes"]) + 1))
        return
    assert verdict.verdict != "PASSED", (how, verdict.render_text())


def _is_earlier_history(mutated: dict[str, object], original: dict[str, object]) -> bool:
    """Whether ``mutated`` is ``original`` with only trailing envelopes left out."""
    rest = {k for k in original if k not in ("envelopes", "directory")}
    if any(mutated[k] != original[k] for k in rest):
        return False
    return all(
        original[k][: len(mutated[k])] == mutated[k]  # type: ignore[index]
        for k in ("envelopes", "directory")
    )
