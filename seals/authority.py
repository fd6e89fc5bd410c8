"""The organisation's seal PKI: a seal CA, the seal certificate, a test TSA and the CRL.

A :class:`SealAuthority` is a value: issuing, revoking and renewing return a new authority,
and :meth:`SealAuthority.save` writes it to a folder. Time is always a parameter (``now``,
``at``); nothing here reads the clock.

An organisation whose seal certificate comes from an outside CA imports it with
:meth:`SealAuthority.from_pkcs12`; such an authority holds no CA key, so it cannot issue,
revoke or publish a CRL (the outside CA does that).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from seals import _pki
from seals._pki import SealPrivateKey
from seals.errors import SealAuthorityError

__all__ = [
    "KeyAlgorithm",
    "Revocation",
    "SealAuthority",
    "SealCredentials",
    "SealPrivateKey",
    "generate_key",
]

KeyAlgorithm = Literal["ecdsa-p256", "rsa-3072"]

# id-kp-documentSigning (RFC 9336): what the seal is for. emailProtection is there too because
# poppler before 25.11 calls a chain without it "Unknown issue with Certificate".
_DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
_SEAL_SUFFIX = " 电子印章"
_FORMAT_VERSION = 1
_SHA256 = hashes.SHA256()


def generate_key(algorithm: KeyAlgorithm) -> SealPrivateKey:
    """A fresh private key: ECDSA on P-256 or RSA with a 3072-bit modulus."""
    if algorithm == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "rsa-3072":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise SealAuthorityError(f"unknown key algorithm {algorithm!r}")


@dataclass(frozen=True, slots=True)
class SealCredentials:
    """A certificate, its private key, and the issuers above it (root last, may be empty)."""

    certificate: x509.Certificate
    private_key: SealPrivateKey
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def serial(self) -> int:
        return self.certificate.serial_number

    def __repr__(self) -> str:
        return f"SealCredentials(subject={self.certificate.subject.rfc4514_string()!r})"


@dataclass(frozen=True, slots=True)
class Revocation:
    """One revoked certificate: its serial, from when, and why."""

    serial: int
    revoked_at: datetime
    reason: x509.ReasonFlags = x509.ReasonFlags.key_compromise


@dataclass(frozen=True, slots=True)
class SealAuthority:
    """An organisation's seal CA (key optional), current seal credentials, and revocations."""

    organisation: str
    ca_certificate: x509.Certificate
    ca_key: SealPrivateKey | None
    seal: SealCredentials
    crl_url: str
    revocations: tuple[Revocation, ...] = ()

    # -- making one ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        organisation: str,
        *,
        now: datetime,
        crl_url: str,
        algorithm: KeyAlgorithm = "ecdsa-p256",
        ca_days: int = 3650,
        seal_days: int = 1095,
        aia_url: str | None = None,
        seal_algorithm: KeyAlgorithm | None = None,
    ) -> SealAuthority:
        """A new seal CA for ``organisation`` and a first seal certificate issued by it.

        ``algorithm`` is the CA's key; ``seal_algorithm`` (default: the same) the seal
        certificate's. Raises SealAuthorityError for an empty organisation name or an unknown
        algorithm.
        """
        if not organisation.strip():
            raise SealAuthorityError("the organisation name is empty")
        now = _utc(now)
        ca_key = generate_key(algorithm)
        ca_name = _pki.name(organisation, f"{organisation} 电子印章根证书")
        ca_cert = (
            _pki.builder(ca_name, ca_name, ca_key.public_key(), now, ca_days)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_pki.key_usage(cert_sign=True), critical=True)
            .add_extension(_pki.ski(ca_key), critical=False)
            .sign(ca_key, _SHA256)
        )
        placeholder = SealCredentials(ca_cert, ca_key, ())
        authority = cls(organisation, ca_cert, ca_key, placeholder, crl_url)
        return authority.issue_seal(
            now=now, algorithm=seal_algorithm or algorithm, days=seal_days, aia_url=aia_url
        )

    def issue_seal(
        self,
        *,
        now: datetime,
        algorithm: KeyAlgorithm = "ecdsa-p256",
        days: int = 1095,
        aia_url: str | None = None,
    ) -> SealAuthority:
        """This authority with a newly issued seal certificate (for a first issue or renewal).

        The subject is ``O=<organisation>, CN=<organisation> 电子印章``. Raises
        SealAuthorityError if the CA key is not held here.
        """
        ca_key = self._require_ca_key("issue a seal certificate")
        now = _utc(now)
        key = generate_key(algorithm)
        subject = _pki.name(self.organisation, self.organisation + _SEAL_SUFFIX)
        eku = [_DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]
        builder = (
            _pki.builder(subject, self.ca_certificate.subject, key.public_key(), now, days)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_pki.key_usage(non_repudiation=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        )
        builder = self._add_issuer_links(builder, key, aia_url)
        cert = builder.sign(ca_key, _SHA256)
        return replace(self, seal=SealCredentials(cert, key, (self.ca_certificate,)))

    def issue_tsa(self, *, now: datetime, days: int = 1095) -> SealCredentials:
        """Credentials for an in-process RFC 3161 time-stamping authority, issued by this CA.

        For tests and the demo: the key is RSA-3072, the extended key usage timeStamping
        (critical, as RFC 3161 requires). Raises SealAuthorityError without the CA key.
        """
        ca_key = self._require_ca_key("issue a TSA certificate")
        now = _utc(now)
        key = generate_key("rsa-3072")
        subject = _pki.name(self.organisation, f"{self.organisation} 时间戳服务")
        eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING])
        builder = (
            _pki.builder(subject, self.ca_certificate.subject, key.public_key(), now, days)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_pki.key_usage(), critical=True)
            .add_extension(eku, critical=True)
        )
        builder = self._add_issuer_links(builder, key, None)
        return SealCredentials(builder.sign(ca_key, _SHA256), key, (self.ca_certificate,))

    @classmethod
    def from_pkcs12(
        cls, data: bytes, *, password: bytes | None, organisation: str | None = None
    ) -> SealAuthority:
        """Seal credentials issued by an outside CA, from a PKCS#12 file.

        The file must hold the seal key, its certificate and the issuing chain up to a
        self-signed root. The organisation defaults to the certificate's O attribute; the CRL
        URL is taken from its distribution point. Raises SealAuthorityError otherwise.
        """
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise SealAuthorityError(f"the PKCS#12 file cannot be read: {exc}") from None
        if cert is None or not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
            raise SealAuthorityError("the PKCS#12 file holds no ECDSA or RSA seal key")
        chain = _pki.order_chain(cert, extra)
        org = organisation or _pki.attribute(cert.subject, NameOID.ORGANIZATION_NAME)
        if not org:
            raise SealAuthorityError("the seal certificate names no organisation (O=)")
        creds = SealCredentials(cert, key, chain)
        return cls(org, chain[-1], None, creds, _pki.crl_url_of(cert))

    # -- revocation ---------------------------------------------------------------------------

    def revoke(
        self,
        serial: int,
        *,
        at: datetime,
        reason: x509.ReasonFlags = x509.ReasonFlags.key_compromise,
    ) -> SealAuthority:
        """This authority with ``serial`` revoked from ``at`` for ``reason``.

        Revoking a serial twice keeps the first entry. Raises SealAuthorityError without the
        CA key.
        """
        self._require_ca_key("revoke a certificate")
        if any(r.serial == serial for r in self.revocations):
            return self
        entry = Revocation(serial, _utc(at).replace(microsecond=0), reason)
        return replace(self, revocations=(*self.revocations, entry))

    def is_revoked(self, serial: int) -> bool:
        """Whether ``serial`` is on this authority's revocation list."""
        return any(r.serial == serial for r in self.revocations)

    def crl(self, *, now: datetime, next_update: timedelta = timedelta(days=7)) -> bytes:
        """A CRL signed now by the seal CA, DER-encoded: every revocation, with its reason.

        The CRL number is the issue time in seconds, so CRLs issued later carry larger
        numbers without a stored counter. Raises SealAuthorityError without the CA key.
        """
        ca_key = self._require_ca_key("sign a CRL")
        now = _utc(now).replace(microsecond=0)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.ca_certificate.subject)
            .last_update(now)
            .next_update(now + next_update)
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(_pki.aki(ca_key), critical=False)
        )
        for entry in self.revocations:
            revoked = (
                x509.RevokedCertificateBuilder()
                .serial_number(entry.serial)
                .revocation_date(entry.revoked_at)
                .add_extension(x509.CRLReason(entry.reason), critical=False)
                .build()
            )
            builder = builder.add_revoked_certificate(revoked)
        crl = builder.sign(ca_key, _SHA256)
        return crl.public_bytes(_pki.DER)

    def crl_pem(self, *, now: datetime, next_update: timedelta = timedelta(days=7)) -> bytes:
        """The same CRL as :meth:`crl`, PEM-encoded."""
        der = self.crl(now=now, next_update=next_update)
        return x509.load_der_x509_crl(der).public_bytes(_pki.PEM)

    # -- storage ------------------------------------------------------------------------------

    def save(
        self,
        folder: Path,
        *,
        passphrase: bytes | None = None,
        ca_passphrase: bytes | None = None,
    ) -> None:
        """Write the authority to ``folder`` (created if needed) as PEM files and JSON.

        Private keys are PKCS#8 PEM, encrypted when a passphrase is given; the CA key under
        ``ca_passphrase`` if given (it is needed only to issue certificates and CRLs, so it
        can stay locked while the seal key works). Raises SealAuthorityError if the folder
        cannot be written.
        """
        meta = {
            "v": _FORMAT_VERSION,
            "organisation": self.organisation,
            "crl_url": self.crl_url,
            "revocations": [
                {
                    "serial": format(r.serial, "x"),
                    "at": _iso(r.revoked_at),
                    "reason": r.reason.value,
                }
                for r in self.revocations
            ],
        }
        files: dict[str, bytes] = {
            "authority.json": json.dumps(meta, ensure_ascii=False, indent=2).encode() + b"\n",
            "seal-ca.pem": _pki.certs_pem((self.ca_certificate,)),
            "seal.pem": _pki.certs_pem((self.seal.certificate, *self.seal.chain)),
            "seal.key.pem": _pki.key_pem(self.seal.private_key, passphrase),
        }
        if self.ca_key is not None:
            files["seal-ca.key.pem"] = _pki.key_pem(self.ca_key, ca_passphrase or passphrase)
        _pki.write_files(folder, files)

    @classmethod
    def load(
        cls,
        folder: Path,
        *,
        passphrase: bytes | None = None,
        ca_passphrase: bytes | None = None,
    ) -> SealAuthority:
        """Read an authority written by :meth:`save`.

        A CA key encrypted under a passphrase not given is left locked (``ca_key`` None; the
        seal key still works). Raises SealAuthorityError if a file is missing or unreadable,
        a passphrase is wrong, or a key does not match its certificate.
        """
        meta = _pki.read_json(folder / "authority.json")
        try:
            if meta.get("v") != _FORMAT_VERSION:
                raise SealAuthorityError(f"{folder / 'authority.json'} has an unknown version")
            revocations = tuple(
                Revocation(
                    int(r["serial"], 16),
                    datetime.fromisoformat(r["at"]),
                    x509.ReasonFlags(r["reason"]),
                )
                for r in meta["revocations"]
            )
            organisation, crl_url = str(meta["organisation"]), str(meta["crl_url"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SealAuthorityError(f"{folder / 'authority.json'} is malformed: {exc}") from None
        ca_cert = _pki.read_certs(folder / "seal-ca.pem")[0]
        seal_certs = _pki.read_certs(folder / "seal.pem")
        seal_key = _pki.read_key(folder / "seal.key.pem", passphrase)
        _pki.check_pair(seal_certs[0], seal_key)
        ca_key_path = folder / "seal-ca.key.pem"
        ca_key = None
        if ca_key_path.exists() and (ca_passphrase or not _pki.is_encrypted(ca_key_path)):
            ca_key = _pki.read_key(ca_key_path, ca_passphrase or passphrase)
        if ca_key is not None:
            _pki.check_pair(ca_cert, ca_key)
        seal = SealCredentials(seal_certs[0], seal_key, tuple(seal_certs[1:]))
        return cls(organisation, ca_cert, ca_key, seal, crl_url, revocations)

    # -- helpers ------------------------------------------------------------------------------

    def _require_ca_key(self, action: str) -> SealPrivateKey:
        if self.ca_key is None:
            raise SealAuthorityError(
                f"cannot {action}: the seal CA's key is not held here (locked under its "
                "passphrase, or an outside CA issued the seal certificate)",
                code="seal.no_ca_key",
            )
        return self.ca_key

    def _add_issuer_links(
        self, builder: x509.CertificateBuilder, key: SealPrivateKey, aia_url: str | None
    ) -> x509.CertificateBuilder:
        ca_key = self._require_ca_key("issue a certificate")
        point = x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(self.crl_url)],
            relative_name=None,
            reasons=None,
            crl_issuer=None,
        )
        builder = (
            builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
            .add_extension(_pki.ski(key), critical=False)
            .add_extension(_pki.aki(ca_key), critical=False)
        )
        if aia_url:
            access = x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(aia_url),
            )
            builder = builder.add_extension(
                x509.AuthorityInformationAccess([access]), critical=False
            )
        return builder


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise SealAuthorityError("times must be timezone-aware", code="seal.naive_time")
    return at.astimezone(UTC)


def _iso(at: datetime) -> str:
    return _utc(at).strftime("%Y-%m-%dT%H:%M:%SZ")
