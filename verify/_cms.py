"""The seal's CMS container, checked byte for byte.

The signature value in ``/Contents`` is excluded from the byte range, and inside it only the
signed attributes are covered by the signature: the certificate set, the CRL set, the
unsigned attributes (the timestamp token) and the framing around them are not. A verifier
that ignores them accepts a file whose signature container was altered. So the container must
be canonical DER, shaped as a PAdES seal is (one signer, consistent digest algorithms, detached
data, only a timestamp as unsigned attribute), and every certificate and CRL it carries must
verify under its issuer. The timestamp token's own container gets the same treatment.
"""

from __future__ import annotations

from asn1crypto import cms, core
from cryptography import x509
from cryptography.exceptions import InvalidSignature

__all__ = ["container_problems"]

_ALLOWED_UNSIGNED = frozenset({"signature_time_stamp_token"})


def container_problems(
    content_info: bytes, known: tuple[x509.Certificate, ...], *, timestamp: bool = False
) -> list[str]:
    """Everything wrong with the CMS ``content_info`` (the DER in /Contents, padding removed,
    or a timestamp token), given certificates trusted to be issuers (``known``)."""
    what = "the timestamp token" if timestamp else "the seal's signature container"
    try:
        parsed = cms.ContentInfo.load(content_info, strict=True)
        canonical = _der_framing(content_info, 0, len(content_info), 0)
        signed = parsed["content"]
        if parsed["content_type"].native != "signed_data":
            return [f"{what} is not CMS signed data"]
    except (ValueError, TypeError, KeyError) as exc:
        return [f"{what} is not well-formed DER: {exc}"]
    problems = [] if canonical else [f"{what} is not in canonical DER"]
    problems += _shape(signed, what, timestamp=timestamp)
    problems += _carried(signed, known, what)
    return problems


def _der_framing(data: bytes, start: int, end: int, depth: int) -> bool:
    """Whether ``data[start:end]`` is a run of DER elements with definite, minimally encoded
    lengths, constructed ones made of such elements too (BER's freedoms are how bytes change
    without changing what a lenient parser reads)."""
    if depth > 64:
        return False
    at = start
    while at < end:
        if at + 2 > end or data[at] & 0x1F == 0x1F:  # no high tag numbers in CMS
            return False
        tag, first = data[at], data[at + 1]
        at += 2
        if first < 0x80:
            length = first
        else:
            width = first & 0x7F
            if not 1 <= width <= 4 or at + width > end or data[at] == 0:
                return False
            length = int.from_bytes(data[at : at + width], "big")
            if length < 0x80:
                return False
            at += width
        if at + length > end:
            return False
        if tag & 0x20 and not _der_framing(data, at, at + length, depth + 1):
            return False
        at += length
    return at == end


def _shape(signed: cms.SignedData, what: str, *, timestamp: bool) -> list[str]:
    problems = []
    infos = list(signed["signer_infos"])
    if len(infos) != 1:
        return [f"{what} has {len(infos)} signers, not one"]
    info = infos[0]
    if signed["version"].native not in ("v1", "v3"):
        problems.append(f"{what} has an unexpected version")
    digests = [a["algorithm"].native for a in signed["digest_algorithms"]]
    if digests != [info["digest_algorithm"]["algorithm"].native]:
        problems.append(f"{what} lists digest algorithms its signer does not use")
    encap = signed["encap_content_info"]
    expected = "tst_info" if timestamp else "data"
    has_content = not isinstance(encap["content"], core.Void)
    if encap["content_type"].native != expected or (not timestamp and has_content):
        problems.append(f"{what} does not hold the expected content")
    unsigned = info["unsigned_attrs"]
    names = set() if isinstance(unsigned, core.Void) else {a["type"].native for a in unsigned}
    if timestamp and names:
        problems.append(f"{what} carries unsigned attributes")
    if not timestamp and not names <= _ALLOWED_UNSIGNED:
        problems.append(f"{what} carries unsigned attributes other than a timestamp")
    return problems


def _carried(signed: cms.SignedData, known: tuple[x509.Certificate, ...], what: str) -> list[str]:
    """Every certificate and CRL in the container must verify under an issuer."""
    problems = []
    certs: list[x509.Certificate] = []
    for choice in signed["certificates"] or ():
        if choice.name != "certificate":
            problems.append(f"{what} carries a certificate of an unexpected kind")
            continue
        try:
            certs.append(x509.load_der_x509_certificate(choice.chosen.dump()))
        except ValueError:
            problems.append(f"{what} carries a certificate that cannot be read")
    issuers = (*certs, *known)
    for cert in certs:
        candidates = [i for i in issuers if i.subject == cert.issuer]
        # A timestamp token may name a TSA whose issuer is nowhere in the file; such a token
        # proves no time (its TSA is not trusted), so its certificate cannot mislead.
        if not candidates and what.startswith("the timestamp"):
            continue
        if not any(_signed_by(cert, issuer) for issuer in candidates):
            problems.append(f"{what} carries a certificate not signed by any issuer it names")
    for choice in signed["crls"] or ():
        try:
            crl = x509.load_der_x509_crl(choice.chosen.dump())
        except (ValueError, AttributeError):
            problems.append(f"{what} carries a revocation list that cannot be read")
            continue
        if not any(_crl_signed_by(crl, issuer) for issuer in issuers):
            problems.append(f"{what} carries a revocation list not signed by its issuer")
    return problems


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    try:
        return crl.issuer == issuer.subject and crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False
