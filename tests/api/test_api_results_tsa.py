"""The service's seal service with a configured TSA (``tsa_url``): the result it issues on an
approval carries the TSA's timestamp; a TSA address that is not http(s) stops the start."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from apikit import PASSPHRASE, T0, open_api

from api.org import OrgHome
from api.results import result_file
from api.settings import Settings
from ledger.sample import SampleOffice
from seals import SealingError
from tests.seals.tsakit import local_tsa
from verify import Verdict, verify_pdf


def test_the_result_issued_on_approval_is_timestamped(
    api_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = OrgHome.load(api_home)
    # The seal service enrolled with the folder's own key, so the service may issue.
    office = SampleOffice(
        org=home.org,
        org_name=home.org_name,
        root_key=home.key("root", PASSPHRASE),
        keys={"service:seal": home.key("seal-service")},
    )
    # Making a TSA certificate needs the seal CA's key, which the folder keeps locked.
    monkeypatch.setenv("CASELEDGER_PASSPHRASE", PASSPHRASE)
    tsa = home.seal_authority().issue_tsa(now=T0 - timedelta(days=1))
    monkeypatch.delenv("CASELEDGER_PASSPHRASE")
    with local_tsa(tsa) as (url, served):
        running = open_api(api_home, None, office, tsa_url=url)
        api = next(running)
        case = office.case_until_decided(api.clock.now)
        for envelope in case:
            api.clock.now = envelope.at
            reply = api.post(envelope)
            assert reply.status_code == 201, reply.text
        running.close()
    assert served, "the TSA was never asked"
    ledger = home.open_ledger()
    try:
        kept = result_file(home, ledger, case[0].stream)
    finally:
        ledger.close()
    assert kept is not None
    pdf = kept.read_bytes()
    assert _unchecked(verify_pdf(pdf, home.trust(), at=case[-1].at)) == {"result.status"}


def test_a_tsa_address_that_is_not_http_is_refused_at_start(api_home: Path) -> None:
    from api.deps import open_services

    with pytest.raises(SealingError) as caught:
        open_services(Settings(home=api_home, tsa_url="tsa.example.gov.cn"))
    assert caught.value.code == "seal.tsa_url"


def _unchecked(report: Verdict) -> set[str]:
    """The checks that did not pass: offline, only the result's status (asked of the office)."""
    return {check.id for check in report.checks if check.status != "passed"}
