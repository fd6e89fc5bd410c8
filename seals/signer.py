"""Who holds the seal key: the :class:`SealSigner` port and its file-key implementation.

The PDF code needs three things from a seal key, wherever it lives: the seal certificate, the
issuers above it, and a pyHanko :class:`~pyhanko.sign.signers.Signer` that makes the raw
signature. A key in a file is :class:`FileKeySigner`; a PKCS#11 token or a remote signing
service would be one more class with the same three members.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from asn1crypto import x509 as asn1_x509
from asn1crypto.algos import SignedDigestAlgorithm
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign.signers import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash, process_pss_params

from seals import _pki
from seals._pki import SealPrivateKey
from seals.authority import SealAuthority, SealCredentials
from seals.errors import SealingError

__all__ = ["FileKeySigner", "SealSigner", "certificate_store", "to_asn1"]


@runtime_checkable
class SealSigner(Protocol):
    """A seal key as the PDF code sees it."""

    @property
    def certificate(self) -> x509.Certificate:
        """The seal certificate that signatures are made under."""
        ...

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """The issuers of the seal certificate, root last (may omit the root)."""
        ...

    def pyhanko_signer(self) -> Signer:
        """A pyHanko signer for this key, ready to use and safe to reuse."""
        ...


def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    """The same certificate as pyHanko's asn1crypto type."""
    return asn1_x509.Certificate.load(cert.public_bytes(_pki.DER))


def certificate_store(certs: tuple[x509.Certificate, ...]) -> SimpleCertificateStore:
    """pyHanko's certificate store holding ``certs``."""
    store = SimpleCertificateStore()  # type: ignore[no-untyped-call]
    for cert in certs:
        store.register(to_asn1(cert))
    return store


class _ParsedKeySigner(Signer):
    """A pyHanko signer over an already-parsed private key.

    pyHanko's ``SimpleSigner`` re-parses its DER key on every signature, which costs about
    137 ms for RSA-3072 because of key validation; the seal service signs many documents
    with one key, so the parsed key is kept.
    """

    def __init__(
        self, key: SealPrivateKey, cert: x509.Certificate, chain: tuple[x509.Certificate, ...]
    ) -> None:
        signing_cert = to_asn1(cert)
        store = certificate_store((cert, *chain))
        super().__init__(signing_cert=signing_cert, cert_registry=store)
        self._key = key

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        return self.sign_raw(data, digest_algorithm)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        """The raw signature over ``data`` with the mechanism pyHanko chose for the key."""
        mechanism: SignedDigestAlgorithm = self.get_signature_mechanism_for_digest(digest_algorithm)
        algo = mechanism.signature_algo
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        key = self._key
        if algo == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hash_algo))
        if algo == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hash_algo)
        if algo == "rsassa_pss" and isinstance(key, rsa.RSAPrivateKey):
            pss, pss_hash = process_pss_params(mechanism["parameters"])
            return key.sign(data, pss, pss_hash)
        raise SealingError(f"the seal key cannot make {algo} signatures")


class FileKeySigner:
    """A seal key held in this process (read from a file or a :class:`SealAuthority`)."""

    def __init__(self, credentials: SealCredentials) -> None:
        """Check that the key belongs to the certificate; raise SealAuthorityError otherwise."""
        _pki.check_pair(credentials.certificate, credentials.private_key)
        self._credentials = credentials
        self._signer = _ParsedKeySigner(
            credentials.private_key, credentials.certificate, credentials.chain
        )

    @classmethod
    def from_authority(cls, authority: SealAuthority) -> FileKeySigner:
        """The signer for the authority's current seal certificate."""
        return cls(authority.seal)

    @classmethod
    def from_files(
        cls, certificate: Path, key: Path, *, passphrase: bytes | None = None
    ) -> FileKeySigner:
        """A signer from a PEM certificate file (seal certificate first, then its issuers)
        and a PEM or DER private key file. Raises SealAuthorityError if either is unreadable.
        """
        certs = _pki.read_certs(certificate)
        private_key = _pki.read_key(key, passphrase)
        return cls(SealCredentials(certs[0], private_key, tuple(certs[1:])))

    @property
    def certificate(self) -> x509.Certificate:
        return self._credentials.certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return self._credentials.chain

    def pyhanko_signer(self) -> Signer:
        return self._signer

    def __repr__(self) -> str:
        return f"FileKeySigner({self.certificate.subject.rfc4514_string()!r})"
