"""Certificate, PEM and file helpers for the seal authority (private to the seals package)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from seals.errors import SealAuthorityError

SealPrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

DER = serialization.Encoding.DER
PEM = serialization.Encoding.PEM


def certs_pem(certs: tuple[x509.Certificate, ...]) -> bytes:
    """Certificates as concatenated PEM blocks, in the order given."""
    return b"".join(c.public_bytes(PEM) for c in certs)


def key_pem(key: SealPrivateKey, passphrase: bytes | None) -> bytes:
    """A private key as PKCS#8 PEM, encrypted with the best available scheme if asked."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, encryption)


def private_key_der(key: SealPrivateKey) -> bytes:
    """A private key as unencrypted PKCS#8 DER (for libraries that take asn1crypto keys)."""
    return key.private_bytes(DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write each file, private keys readable by the owner only; raise SealAuthorityError."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            path = folder / name
            mode = 0o600 if name.endswith(".key.pem") else 0o644
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
    except OSError as exc:
        raise SealAuthorityError(f"cannot write the seal authority to {folder}: {exc}") from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SealAuthorityError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; raise SealAuthorityError if missing or not an object."""
    try:
        value = json.loads(_read(path))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SealAuthorityError(f"{path} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SealAuthorityError(f"{path} does not hold a JSON object")
    return value


def read_certs(path: Path) -> list[x509.Certificate]:
    """All certificates in a PEM file (at least one); raise SealAuthorityError otherwise."""
    try:
        certs = x509.load_pem_x509_certificates(_read(path))
    except ValueError as exc:
        raise SealAuthorityError(f"{path} holds no readable certificate: {exc}") from None
    return certs


def load_key(data: bytes, passphrase: bytes | None, *, what: str) -> SealPrivateKey:
    """An ECDSA or RSA private key from PEM or DER; raise SealAuthorityError otherwise."""
    loader = (
        serialization.load_pem_private_key
        if data.lstrip().startswith(b"-----")
        else serialization.load_der_private_key
    )
    try:
        key = loader(data, passphrase)
    except TypeError:
        raise SealAuthorityError(
            f"{what} is encrypted and needs a passphrase (or none was expected)",
            code="seal.passphrase",
        ) from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SealAuthorityError(f"{what} cannot be read (wrong passphrase?): {exc}") from None
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise SealAuthorityError(f"{what} is neither an ECDSA nor an RSA key")
    return key


def is_encrypted(path: Path) -> bool:
    """Whether a PEM key file is encrypted (PKCS#8 EncryptedPrivateKeyInfo)."""
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in _read(path)


def read_key(path: Path, passphrase: bytes | None) -> SealPrivateKey:
    """The private key in ``path``; see :func:`load_key`."""
    return load_key(_read(path), passphrase, what=str(path))


def check_pair(cert: x509.Certificate, key: SealPrivateKey) -> None:
    """Raise SealAuthorityError unless ``key`` is the private half of ``cert``'s public key."""
    if cert.public_key() != key.public_key():
        raise SealAuthorityError(
            f"the key does not belong to the certificate {cert.subject.rfc4514_string()}",
            code="seal.key_mismatch",
        )


def name(organisation: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    now: datetime,
    days: int,
) -> x509.CertificateBuilder:
    # Backdate by an hour so that a validator whose clock runs slightly behind still accepts.
    start = now.replace(microsecond=0) - timedelta(hours=1)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
    )


def key_usage(*, cert_sign: bool = False, non_repudiation: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def ski(key: SealPrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def aki(ca_key: SealPrivateKey) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())


def attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def crl_url_of(cert: x509.Certificate) -> str:
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return ""
    for point in points:
        for name in point.full_name or ():
            if isinstance(name, x509.UniformResourceIdentifier):
                return str(name.value)
    return ""


def order_chain(
    leaf: x509.Certificate, others: Sequence[x509.Certificate]
) -> tuple[x509.Certificate, ...]:
    """The issuers of ``leaf`` in order, ending with a self-signed root."""
    chain: list[x509.Certificate] = []
    current = leaf
    pool = list(others)
    while current.issuer != current.subject:
        issuer = next((c for c in pool if c.subject == current.issuer), None)
        if issuer is None:
            raise SealAuthorityError(
                "the PKCS#12 file lacks the issuer of "
                f"{current.subject.rfc4514_string()}: include the whole chain up to the root"
            )
        try:
            current.verify_directly_issued_by(issuer)
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise SealAuthorityError(f"the PKCS#12 chain does not verify: {exc}") from None
        chain.append(issuer)
        pool.remove(issuer)
        current = issuer
    if not chain:
        raise SealAuthorityError("the seal certificate is self-signed: no CA issued it")
    return tuple(chain)
