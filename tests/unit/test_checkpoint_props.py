"""Properties of checkpoint notes: signing round-trips; any one-character change is caught."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.checkpoint import (
    Checkpoint,
    CheckpointInvalid,
    NoteMalformed,
    sign_checkpoint,
    verify_checkpoint,
)
from ledger.note import verifier_key_string
from ledger.signing import PrivateKey

KEY = PrivateKey(hashlib.sha256(b"property log key").digest())

origins = st.text(
    st.characters(
        codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), exclude_characters="+"
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: not any(c.isspace() for c in s))
sizes = st.integers(0, 2**63 - 1)
roots = st.binary(min_size=32, max_size=32)


@settings(max_examples=200, deadline=None)
@given(origins, sizes, roots)
def test_signed_checkpoints_verify_to_what_was_signed(origin: str, size: int, root: bytes) -> None:
    text = sign_checkpoint(origin, size, root, KEY)
    vkey = verifier_key_string(origin, KEY.public_key)
    assert verify_checkpoint(text, [vkey], origin=origin) == Checkpoint(origin, size, root)


@settings(max_examples=400, deadline=None)
@given(origins, sizes, roots, st.integers(0, 10_000), st.characters(codec="utf-8"))
def test_any_changed_character_is_caught(
    origin: str, size: int, root: bytes, where: int, new: str
) -> None:
    text = sign_checkpoint(origin, size, root, KEY)
    at = where % len(text)
    if text[at] == new:
        return
    tampered = text[:at] + new + text[at + 1 :]
    vkey = verifier_key_string(origin, KEY.public_key)
    with pytest.raises((NoteMalformed, CheckpointInvalid)):
        verify_checkpoint(tampered, [vkey], origin=origin)
