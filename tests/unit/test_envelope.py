"""The signed envelope: parsing at the edge, every malformation with its stable code, hashes and
signing bytes computed from the exact stored text."""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import rfc8785

from ledger.envelope import (
    MAX_ENVELOPE_BYTES,
    SIGNING_PREFIX,
    Actor,
    Envelope,
    draft_envelope,
    format_time,
    parse_time,
    seal_envelope,
)
from ledger.errors import EnvelopeError, SignatureInvalid
from ledger.sample import SampleOffice
from ledger.signing import PrivateKey, b64encode

KEY = PrivateKey(bytes(range(32)))
AT = datetime(2026, 11, 23, 6, 40, 0, tzinfo=UTC)
CASE = "case:3f6c0b1e-9a1d-4c2e-8f00-1234567890ab"


def signed(**changes: Any) -> Envelope:
    draft = draft_envelope(
        stream=CASE,
        seq=2,
        step_type="Accepted",
        at=AT,
        actor=Actor("staff:wang.li", "handler", KEY.key_id),
        prev="ab" * 32,
        body={"opinion": "材料齐全，予以受理。"},
    )
    return seal_envelope({**draft, **changes}, KEY)


def as_obj() -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(signed().raw)
    return obj


def jcs(obj: object) -> bytes:
    return bytes(rfc8785.dumps(obj))


def code_of(data: bytes | str) -> str:
    with pytest.raises(EnvelopeError) as caught:
        Envelope.from_bytes(data)
    return caught.value.code


def with_field(name: str, value: object) -> bytes:
    return jcs({**as_obj(), name: value})


def without(name: str) -> bytes:
    obj = as_obj()
    del obj[name]
    return jcs(obj)


# Round trip -----------------------------------------------------------------------------------


def test_a_sealed_envelope_parses_back_to_the_same_fields() -> None:
    env = signed()
    again = Envelope.from_bytes(env.raw)
    assert again == env
    assert again.stream == CASE
    assert again.seq == 2
    assert again.type == "Accepted"
    assert again.at == AT
    assert again.actor == Actor("staff:wang.li", "handler", KEY.key_id)
    assert again.prev == "ab" * 32
    assert again.body == {"opinion": "材料齐全，予以受理。"}
    assert len(again.sig) == 64
    assert Envelope.from_bytes(env.text) == env


def test_hash_is_sha256_of_the_stored_bytes() -> None:
    env = signed()
    assert env.hash == hashlib.sha256(env.raw).hexdigest()
    assert env.raw == jcs(env.to_json())


def test_signing_bytes_are_the_prefix_and_jcs_without_sig() -> None:
    env = signed()
    unsigned = {k: v for k, v in json.loads(env.raw).items() if k != "sig"}
    assert SIGNING_PREFIX == b"caseledger/envelope/v1\n"
    assert env.signing_bytes() == SIGNING_PREFIX + jcs(unsigned)
    env.verify_with(KEY.public_key)


def test_signing_bytes_cut_the_top_level_sig_even_if_the_body_mentions_one() -> None:
    # A body value that spells out the sig member must not fool the cut.
    first = signed()
    sig_member = ',"sig":"' + b64encode(first.sig) + '"'
    env = signed(body={"opinion": sig_member, "zz": sig_member})
    unsigned = {k: v for k, v in json.loads(env.raw).items() if k != "sig"}
    assert env.signing_bytes() == SIGNING_PREFIX + jcs(unsigned)
    env.verify_with(KEY.public_key)


def test_verify_with_another_key_raises_signature_invalid() -> None:
    with pytest.raises(SignatureInvalid) as caught:
        signed().verify_with(PrivateKey.generate().public_key)
    assert caught.value.code == "sig.invalid"


def test_a_verified_signature_is_remembered_for_that_key_only() -> None:
    env = signed()
    assert env.verified_key is None  # parsed, not yet checked
    env.verify_with(KEY.public_key)
    assert env.verified_key == KEY.public_key
    # Asking for another key checks again, and the signature does not verify under it.
    with pytest.raises(SignatureInvalid):
        env.verify_with(PrivateKey.generate().public_key)
    assert env.verified_key == KEY.public_key


def test_a_failed_check_is_not_remembered() -> None:
    env = signed()
    other = PrivateKey.generate().public_key
    for _ in range(2):
        with pytest.raises(SignatureInvalid):
            env.verify_with(other)
    assert env.verified_key is None


def test_a_typed_body_is_read_once_for_the_same_reader() -> None:
    env = signed()
    calls: list[str] = []

    def opinion(body: dict[str, Any]) -> str:
        calls.append("opinion")
        return str(body["opinion"])

    def refusing(body: dict[str, Any]) -> str:
        calls.append("refusing")
        raise EnvelopeError("not this body", code="body.invalid")

    assert env.read_body_with(opinion) == env.read_body_with(opinion) == "材料齐全，予以受理。"
    assert calls == ["opinion"]
    # Another reader reads the body itself; one that refuses it is asked again next time.
    for _ in range(2):
        with pytest.raises(EnvelopeError):
            env.read_body_with(refusing)
    assert calls == ["opinion", "refusing", "refusing"]
    assert env == Envelope.from_bytes(env.raw)


def test_the_memo_is_no_argument_and_no_part_of_the_value() -> None:
    env = signed()
    fields = {name: getattr(env, name) for name in Envelope.__dataclass_fields__}
    with pytest.raises(TypeError):
        Envelope(**fields)  # verified_key cannot be handed in
    twin = Envelope.from_bytes(env.raw)
    env.verify_with(KEY.public_key)
    assert env == twin and twin.verified_key is None


def round_trip(env: Envelope) -> Envelope:
    # Our own bytes, between our own processes.
    back: Envelope = pickle.loads(pickle.dumps(env))  # noqa: S301
    return back


def test_an_envelope_pickles_with_its_memo() -> None:
    env = signed()
    assert round_trip(env).verified_key is None
    env.verify_with(KEY.public_key)
    back = round_trip(env)
    assert back == env and back.raw == env.raw and back.actor == env.actor
    assert back.verified_key == KEY.public_key


def test_any_changed_field_breaks_the_signature() -> None:
    env = signed()
    obj = json.loads(env.raw)
    obj["body"]["opinion"] = "不予受理"
    forged = Envelope.from_bytes(jcs(obj))
    assert forged.hash != env.hash
    with pytest.raises(SignatureInvalid):
        forged.verify_with(KEY.public_key)


def test_time_format_and_parse() -> None:
    assert format_time(AT) == "2026-11-23T06:40:00Z"
    assert parse_time("2026-11-23T06:40:00Z") == AT
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2026, 1, 1))


# Malformations ---------------------------------------------------------------------------------

MALFORMED: list[tuple[str, Callable[[], bytes], str]] = [
    ("spaces", lambda: json.dumps(as_obj(), sort_keys=True).encode(), "json.not_canonical"),
    (
        "unsorted keys",
        lambda: json.dumps(dict(reversed(as_obj().items())), separators=(",", ":")).encode(),
        "json.not_canonical",
    ),
    (
        "escaped solidus",
        lambda: with_field("body", {"opinion": "a/b"}).replace(b"/", b"\\/"),
        "json.not_canonical",
    ),
    (
        "escaped non-ASCII",
        lambda: json.dumps(as_obj(), sort_keys=True, separators=(",", ":")).encode(),
        "json.not_canonical",
    ),
    ("trailing newline", lambda: signed().raw + b"\n", "json.not_canonical"),
    ("float seq", lambda: signed().raw.replace(b'"seq":2', b'"seq":2.0'), "json.invalid"),
    (
        "float in body",
        lambda: with_field("body", {"opinion": "x"}).replace(b'"x"', b"1.5"),
        "json.invalid",
    ),
    (
        "huge int",
        lambda: signed().raw.replace(b'"seq":2', b'"seq":99999999999999999999'),
        "json.invalid",
    ),
    (
        "int past 2^53",
        lambda: signed().raw.replace(b'"seq":2', b'"seq":9007199254740992'),
        "json.invalid",
    ),
    ("not an object", lambda: jcs([as_obj()]), "json.invalid"),
    ("not UTF-8", lambda: signed().raw.replace("材".encode(), b"\xff\xfe\xfd"), "json.invalid"),
    ("lone surrogate", lambda: signed().raw.replace("材".encode(), b"\\ud800"), "json.invalid"),
    ("raw control char", lambda: signed().raw.replace("材".encode(), b"\n"), "json.invalid"),
    ("deep nesting", lambda: with_field("body", _nested(40)), "json.invalid"),
    (
        "oversize",
        lambda: with_field("body", {"opinion": "x" * MAX_ENVELOPE_BYTES}),
        "json.too_large",
    ),
    ("missing field", lambda: without("prev"), "envelope.fields"),
    ("missing sig", lambda: without("sig"), "envelope.fields"),
    ("extra field", lambda: with_field("note", "hi"), "envelope.fields"),
    ("version 2", lambda: with_field("v", 2), "envelope.version"),
    ("unknown type", lambda: with_field("type", "Approved"), "envelope.unknown_type"),
    ("directory type in a case", lambda: with_field("type", "KeyAdded"), "envelope.unknown_type"),
    (
        "case type in a directory",
        lambda: jcs({**as_obj(), "stream": "directory:org"}),
        "envelope.unknown_type",
    ),
    ("bad stream", lambda: with_field("stream", "case:not-a-uuid"), "envelope.malformed"),
    (
        "upper-case uuid",
        lambda: with_field("stream", CASE.upper().replace("CASE", "case")),
        "envelope.malformed",
    ),
    ("seq zero", lambda: with_field("seq", 0), "envelope.malformed"),
    ("seq negative", lambda: with_field("seq", -1), "envelope.malformed"),
    ("seq bool", lambda: with_field("seq", True), "envelope.malformed"),
    ("seq string", lambda: with_field("seq", "2"), "envelope.malformed"),
    ("type not text", lambda: with_field("type", 3), "envelope.malformed"),
    (
        "actor extra member",
        lambda: with_field("actor", {**as_obj()["actor"], "name": "王立"}),
        "envelope.malformed",
    ),
    (
        "actor missing key",
        lambda: with_field("actor", {"id": "staff:wang.li", "role": "handler"}),
        "envelope.malformed",
    ),
    (
        "actor id not kind:name",
        lambda: with_field("actor", {**as_obj()["actor"], "id": "wang.li"}),
        "envelope.malformed",
    ),
    (
        "actor key not a key id",
        lambda: with_field("actor", {**as_obj()["actor"], "key": "XYZ"}),
        "envelope.malformed",
    ),
    (
        "actor role not text",
        lambda: with_field("actor", {**as_obj()["actor"], "role": None}),
        "envelope.malformed",
    ),
    ("prev upper-case", lambda: with_field("prev", "AB" * 32), "envelope.malformed"),
    ("prev short", lambda: with_field("prev", "ab" * 31), "envelope.malformed"),
    ("prev number", lambda: with_field("prev", 0), "envelope.malformed"),
    ("body not object", lambda: with_field("body", ["x"]), "envelope.malformed"),
    ("bad base64", lambda: with_field("sig", "!!!!" * 22), "json.invalid"),
    ("url-safe base64", lambda: with_field("sig", "-_" * 44), "json.invalid"),
    ("sig 63 bytes", lambda: with_field("sig", b64encode(bytes(63))), "envelope.malformed"),
    ("sig 65 bytes", lambda: with_field("sig", b64encode(bytes(65))), "envelope.malformed"),
    ("sig not text", lambda: with_field("sig", 5), "envelope.malformed"),
    ("time with offset", lambda: with_field("at", "2026-11-23T06:40:00+08:00"), "json.invalid"),
    ("time with fraction", lambda: with_field("at", "2026-11-23T06:40:00.5Z"), "json.invalid"),
    ("date only", lambda: with_field("at", "2026-11-23"), "json.invalid"),
    ("no such day", lambda: with_field("at", "2026-02-30T06:40:00Z"), "json.invalid"),
    ("hour 24", lambda: with_field("at", "2026-11-23T24:00:00Z"), "json.invalid"),
    ("time not text", lambda: with_field("at", 1700000000), "envelope.malformed"),
]


def _nested(levels: int) -> dict[str, Any]:
    value: Any = "x"
    for _ in range(levels):
        value = {"a": value}
    return {"opinion": "x", "deep": value}


@pytest.mark.parametrize(("name", "make", "code"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_envelope_has_a_stable_code(
    name: str, make: Callable[[], bytes], code: str
) -> None:
    data = make()
    assert data != signed().raw or name == "trailing newline"
    assert code_of(data) == code


def test_every_code_used_above_is_an_envelope_error_code() -> None:
    assert {code for *_, code in MALFORMED} == {
        "json.not_canonical",
        "json.invalid",
        "json.too_large",
        "envelope.fields",
        "envelope.version",
        "envelope.unknown_type",
        "envelope.malformed",
    }


def test_an_envelope_exactly_at_the_size_limit_is_read() -> None:
    base = with_field("body", {"opinion": ""})
    filler = MAX_ENVELOPE_BYTES - len(base)
    data = with_field("body", {"opinion": "x" * filler})
    assert len(data) == MAX_ENVELOPE_BYTES
    assert Envelope.from_bytes(data).body["opinion"] == "x" * filler
    assert code_of(with_field("body", {"opinion": "x" * (filler + 1)})) == "json.too_large"


def test_directory_stream_names() -> None:
    for good in ("directory:jinan-approval", "directory:a", "directory:org.unit_2"):
        obj = {**as_obj(), "stream": good, "type": "StaffEnrolled"}
        assert Envelope.from_bytes(jcs(obj)).stream == good
    for bad in ("directory:", "directory:Upper", "directory:-x", "dir:x", "directory:" + "a" * 64):
        obj = {**as_obj(), "stream": bad, "type": "StaffEnrolled"}
        assert code_of(jcs(obj)) == "envelope.malformed"


@pytest.mark.parametrize("field", ["stream", "at", "prev", "actor.key", "actor.id"])
def test_a_field_with_a_trailing_newline_is_refused(
    office: SampleOffice, t1: Any, field: str
) -> None:
    envelope = office.case_until_decided(t1)[1]
    data = json.loads(envelope.raw)
    if field.startswith("actor."):
        data["actor"][field.split(".")[1]] += "\n"
    else:
        data[field] += "\n"
    with pytest.raises(EnvelopeError):
        Envelope.from_bytes(rfc8785.dumps(data))
