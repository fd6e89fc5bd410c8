"""The trust file as the verifier reads it: the only source of trust, given as an argument.

The format and its parser live in :mod:`ledger.trust`; this module reads a trust file for the
verifier (turning any problem into :class:`InputUnreadable`) and derives the pieces the checks
need: the seal CA certificates, parsed once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509

from ledger.trust import MAX_TRUST_BYTES, TrustFile, TrustFileError
from verify._log import log_keys
from verify.verdict import InputUnreadable

__all__ = ["SealRoots", "TrustFile", "load_trust", "read_trust_file", "seal_roots"]


@dataclass(frozen=True, slots=True)
class SealRoots:
    """The trust file's seal CA certificates, in both libraries' types (same order)."""

    asn1: tuple[asn1_x509.Certificate, ...]
    pyca: tuple[x509.Certificate, ...]


def load_trust(data: bytes | str) -> TrustFile:
    """Parse trust.json and check its seal CA certificates can be read.

    Raises InputUnreadable (exit code 3) if it cannot: a verifier without a readable trust file
    has nothing to check against.
    """
    try:
        trust = TrustFile.from_json(data)
    except TrustFileError as exc:
        raise InputUnreadable(f"the trust file cannot be read: {exc.message}") from None
    seal_roots(trust)
    log_keys(trust)
    return trust


def read_trust_file(path: Path) -> TrustFile:
    """:func:`load_trust` on a file; raises InputUnreadable if it is missing or unreadable."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TRUST_BYTES + 1)
    except OSError as exc:
        raise InputUnreadable(f"the trust file {path} cannot be read: {exc.strerror}") from None
    return load_trust(data)


_ROOTS_CACHE: dict[tuple[str, ...], SealRoots] = {}


def seal_roots(trust: TrustFile) -> SealRoots:
    """The seal CA certificates of ``trust``. Raises InputUnreadable if one is not a PEM
    certificate; a trust file with no seal CA yields no roots (every seal then fails)."""
    cached = _ROOTS_CACHE.get(trust.seal_ca_pems)
    if cached is not None:
        return cached
    asn1: list[asn1_x509.Certificate] = []
    pyca: list[x509.Certificate] = []
    for text in trust.seal_ca_pems:
        try:
            cert = x509.load_pem_x509_certificate(text.encode("ascii"))
            _, _, der = asn1_pem.unarmor(text.encode("ascii"))
            parsed = asn1_x509.Certificate.load(der)
            parsed.native  # noqa: B018 - parse every field now, not during a check
        except (ValueError, TypeError, UnicodeEncodeError) as exc:
            raise InputUnreadable(
                f"a seal CA in the trust file is not a certificate: {exc}"
            ) from None
        asn1.append(parsed)
        pyca.append(cert)
    roots = SealRoots(tuple(asn1), tuple(pyca))
    if len(_ROOTS_CACHE) < 64:
        _ROOTS_CACHE[trust.seal_ca_pems] = roots
    return roots
