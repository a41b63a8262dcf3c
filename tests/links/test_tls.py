"""HTTPS source pages: an untrusted certificate is inconclusive (a TLS error), never lost;
the same page with its CA trusted (CRM_LINKS_CA_FILE) is checked, the name verified."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from crm.links.addresses import AddressPolicy
from crm.links.fetch import FetchSettings, PageFetcher
from crm.links.verdict import Logged, judge
from crm.models import AnchorType, CheckResult, LinkRel
from tests.fixtures.links import Page, PageServer

HOST = "secure.blog.example"
TARGET = "https://sample-site.example/guide"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


@pytest.fixture
def https_pages(tmp_path: Path) -> Iterator[tuple[PageServer, Path]]:
    cert, key = _self_signed(tmp_path)
    server = PageServer()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)  # fmt: skip
    thread.start()
    try:
        yield server, cert
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def test_an_untrusted_certificate_is_inconclusive_and_a_trusted_one_is_checked(
    https_pages: tuple[PageServer, Path],
) -> None:
    server, cert = https_pages
    server.routes["/post"] = Page(f'<p><a href="{TARGET}">guide</a></p>')
    url = f"https://{HOST}:{server.port}/post"
    logged = Logged(url, TARGET, "guide", AnchorType.GENERIC, LinkRel.DOFOLLOW)
    base = {"policy": AddressPolicy(allow_all=True), "host_spacing": 0,
            "resolve": {HOST: "127.0.0.1"}}  # fmt: skip

    untrusted = PageFetcher(FetchSettings(**base)).fetch(url)  # type: ignore[arg-type]
    verdict = judge(untrusted, logged)
    assert verdict.result == CheckResult.INCONCLUSIVE and "TLS error" in verdict.reason

    trusted = PageFetcher(FetchSettings(ca_file=str(cert), **base)).fetch(url)  # type: ignore[arg-type]
    assert judge(trusted, logged).result == CheckResult.FOUND
