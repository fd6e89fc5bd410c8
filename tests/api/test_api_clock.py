"""The legal clock through the service: a calendar the office signs, 延期, suspended cases in
supervision, statutory and committed limits apart, figures, CSV and 督办."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from apikit import Api

from ledger.calendar import calendar_body
from ledger.client import StreamWriter
from ledger.envelope import Envelope

# Thursday 24 December 2026, 09:00 in China: ten committed and twenty statutory working days
# run into 2027, which chinese_calendar 1.11.0 does not know.
LATE_DECEMBER = datetime(2026, 12, 24, 1, 0, tzinfo=UTC)
CALENDAR_2027 = calendar_body(
    2027,
    [date(2027, 1, 1), *(date(2027, 2, d) for d in range(6, 14))],
    [date(2027, 2, 14)],
    "国办发明电〔2026〕1号",
)


def _run(api: Api, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        api.clock.now = envelope.at
        reply = api.post(envelope)
        assert reply.status_code == 201, reply.text


def _supervisor(api: Api) -> dict[str, str]:
    return api.sign_in(api.signer("staff:sun.qi", "supervisor"))


def _publish(api: Api, body: dict[str, object], at: datetime) -> None:
    directory = api.services().ledger.directory()
    writer = StreamWriter(directory.stream, directory.seq, directory.head_hash)
    api.clock.now = at
    reply = api.post(writer.sign("CalendarPublished", api.office.admin, at, body))
    assert reply.status_code == 201, reply.text


def _case(api: Api, case_id: str, headers: dict[str, str]) -> dict[str, object]:
    reply = api.client.get(f"/v1/cases/{case_id}", headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()["case"]["timing"]  # type: ignore[no-any-return]


def test_a_deadline_into_an_unpublished_year_is_flagged_until_the_year_is_signed(
    api: Api,
) -> None:
    envelopes = api.office.case_until_decided(LATE_DECEMBER)
    _run(api, envelopes[:2])
    case_id = envelopes[0].stream[5:]
    api.clock.now = LATE_DECEMBER + timedelta(days=4)
    headers = _supervisor(api)
    timing = _case(api, case_id, headers)
    assert timing["committed_deadline"] is None and timing["statutory_deadline"] is None
    assert timing["warnings"] == ["clock.calendar_unknown"] and timing["unknown_years"] == [2027]
    assert timing["used_days"] == 2  # 25 and 28 December, known days, still counted
    flagged = api.client.get("/v1/supervision/calendar-unknown", headers=headers).json()
    assert [c["case_id"] for c in flagged["cases"]] == [case_id]

    _publish(api, CALENDAR_2027, LATE_DECEMBER + timedelta(days=4))
    api.clock.now = LATE_DECEMBER + timedelta(days=5)
    timing = _case(api, case_id, _supervisor(api))
    # 25, 28–31 December, then 4–8 January (1 January is a holiday): the tenth is 8 January;
    # the twentieth is 22 January.
    assert timing["committed_deadline"] == "2027-01-08"
    assert timing["statutory_deadline"] == "2027-01-22"
    assert timing["warnings"] == []
    listed = api.client.get("/v1/supervision/calendar-unknown", headers=_supervisor(api))
    assert listed.json()["cases"] == [], listed.text
    # The stored deadline was recounted too: the case is overdue on 11 January.
    api.clock.now = datetime(2027, 1, 11, 2, tzinfo=UTC)
    overdue = api.client.get("/v1/supervision/overdue", headers=_supervisor(api)).json()
    assert [c["case_id"] for c in overdue["cases"]] == [case_id]
    statutory = api.client.get(
        "/v1/supervision/overdue?against=statutory", headers=_supervisor(api)
    ).json()
    assert statutory["cases"] == []


def test_a_suspended_case_is_listed_with_since_how_long_and_why(api: Api) -> None:
    start = datetime(2026, 11, 24, 1, tzinfo=UTC)
    envelopes = api.office.case_until_decided(start)
    _run(api, envelopes[:2])
    stream, case_id = envelopes[0].stream, envelopes[0].stream[5:]
    seq, head = api.services().ledger.head(stream)
    writer = StreamWriter(stream, seq, head)
    at = start + timedelta(days=2)
    _run(api, [writer.sign("Suspended", api.office.handler, at, {"reason": "专家评审"})])
    api.clock.now = start + timedelta(days=9)
    headers = _supervisor(api)
    listed = api.client.get("/v1/supervision/suspended", headers=headers).json()
    (item,) = listed["cases"]
    assert item["case"]["case_id"] == case_id and item["reason"] == "专家评审"
    assert item["since"] == "2026-11-26" and item["calendar_days"] == 7
    assert item["working_days"] == 5
    timing = _case(api, case_id, headers)
    assert timing["paused"] and timing["used_days"] == 2
    assert timing["suspended_reason"] == "专家评审"
    exported = api.client.get("/v1/supervision/export.csv", headers=headers)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["case_number"][:8], r["suspended_reason"]) for r in rows] == [
        ("20261124", "专家评审")
    ]


def test_extension_moves_both_limits_within_the_matter_maximum(api: Api) -> None:
    start = datetime(2026, 11, 24, 1, tzinfo=UTC)
    envelopes = api.office.case_until_decided(start)
    _run(api, envelopes[:2])
    stream, case_id = envelopes[0].stream, envelopes[0].stream[5:]
    seq, head = api.services().ledger.head(stream)
    writer = StreamWriter(stream, seq, head)
    at = start + timedelta(days=3)
    body = {"days": 11, "reason": "需要现场核查", "notice": "因需现场核查，办理期限延长。"}
    api.clock.now = at
    refused = api.post(writer.sign("Extended", api.office.approver, at, body))
    assert refused.status_code == 403 and "order.not_allowed" in refused.text
    writer = StreamWriter(stream, seq, head)
    _run(api, [writer.sign("Extended", api.office.approver, at, {**body, "days": 10})])
    timing = _case(api, case_id, _supervisor(api))
    # 24 November + 20 working days = 22 December; + 30 = 5 January 2027 (not yet known).
    assert timing["committed_deadline"] == "2026-12-22" and timing["extended_days"] == 10
    assert timing["statutory_deadline"] is None
    assert timing["warnings"] == ["clock.calendar_unknown"]


def test_figures_per_person_and_unit_over_a_date_range_and_a_supervision_order(
    api: Api,
) -> None:
    start = datetime(2026, 11, 24, 1, tzinfo=UTC)
    on_time = api.office.case_until_decided(start)
    _run(api, on_time)
    late = api.office.case_until_decided(start + timedelta(minutes=1))
    _run(api, late[:3])
    decided_at = datetime(2026, 12, 28, 2, tzinfo=UTC)  # 23 working days after acceptance
    writer = StreamWriter(late[0].stream, 3, late[2].hash)
    _run(api, [writer.sign("Decided", api.office.approver, decided_at, late[3].body)])
    headers = _supervisor(api)
    units = api.client.get("/v1/supervision/figures?by=unit", headers=headers).json()
    (row,) = units["rows"]
    assert row["decided"] == 2 and row["decided_late"] == 1 and row["decided_past_statutory"] == 1
    assert row["on_time_rate"] == 0.5 and row["statutory_on_time_rate"] == 0.5
    december = api.client.get(
        "/v1/supervision/figures?by=person&from=2026-12-01&to=2026-12-31", headers=headers
    ).json()
    people = {r["person"]: r for r in december["rows"]}
    assert people["staff:zhang.wei"]["decided"] == 1
    assert people["staff:zhang.wei"]["on_time_rate"] == 0.0
    bad = api.client.get("/v1/supervision/figures?from=2026-12-31&to=2026-12-01", headers=headers)
    assert bad.status_code == 422 and bad.json()["code"] == "range.invalid"
    table = api.client.get("/v1/supervision/export.csv?list=figures&by=matter", headers=headers)
    assert "on_time_rate" in table.content.decode("utf-8-sig").splitlines()[0]

    # 督办: drafted for the supervisor, signed with their key, recorded on the case.
    case_id = on_time[0].stream[5:]
    draft = api.client.get(
        f"/v1/cases/{case_id}/next?type=SupervisionOrdered", headers=headers
    ).json()["draft"]
    assert draft["actor"]["role"] == "supervisor"
    seq, head = api.services().ledger.head(on_time[0].stream)
    writer = StreamWriter(on_time[0].stream, seq, head)
    order = {"order": "请说明办理情况", "due": "2027-01-05"}
    _run(api, [writer.sign("SupervisionOrdered", api.signer("staff:sun.qi", "supervisor"),
                           decided_at, order)])  # fmt: skip
    state = api.services().ledger.case_state(on_time[0].stream)
    assert state.supervision_orders == 1 and state.status == "decided"  # left where it stood


def test_the_audit_the_verifier_and_the_read_models_agree_on_every_case(api: Api) -> None:
    from api.org import OrgHome
    from ledger.store.bundles import build_bundle
    from verify import verify_bundle

    start = datetime(2026, 11, 24, 1, tzinfo=UTC)
    streams = {}
    for n, delay in enumerate((0, 9, 16, 30, 45)):
        case = api.office.case_until_decided(start + timedelta(minutes=n))
        _run(api, case[:3])
        writer = StreamWriter(case[0].stream, 3, case[2].hash)
        decided = start + timedelta(days=delay, hours=2)
        _run(api, [writer.sign("Decided", api.office.approver, decided, case[3].body)])
        streams[case[0].stream] = delay
    services = api.services()
    home = OrgHome.load(api.home)
    report = services.ledger.audit()
    audit_codes = {
        f.stream: f.code for f in report.time_limits if f.code.startswith("deadline.") and
        f.code != "deadline.stage_overran"
    }  # fmt: skip
    for stream in streams:
        summary = services.read_models.case(stream)
        assert summary is not None
        timing = summary.assess(summary.last_at)
        bundle = build_bundle(
            services.ledger, services.ledger.log, stream, log_key=home.key("log"), now=api.clock.now
        )
        check = next(
            c for c in verify_bundle(bundle.dumps(), home.trust()).checks if c.id == "case.deadline"
        )
        expected = (
            "deadline.statutory_exceeded" if timing.statutory_overdue
            else "deadline.committed_exceeded" if timing.overdue else None
        )  # fmt: skip
        assert audit_codes.get(stream) == expected
        assert check.status.value == ("failed" if expected else "passed"), check.detail
        if timing.statutory_overdue:
            assert f"{timing.days_over_statutory} working day(s) past the statutory" in check.detail
    # Ten committed, twenty statutory working days from 24 November 2026.
    assert sorted(audit_codes.values()) == [
        "deadline.committed_exceeded", "deadline.statutory_exceeded", "deadline.statutory_exceeded"
    ]  # fmt: skip
    assert report.ok


def test_the_directory_lists_the_calendars_it_holds(api: Api) -> None:
    before = api.client.get("/v1/public/calendars").json()
    assert 2027 not in [c["year"] for c in before["calendars"]]
    known = before["unknown_after"]
    assert known == max(c["year"] for c in before["calendars"])
    assert all(not c["signed"] for c in before["calendars"])  # the package's years only

    _publish(api, CALENDAR_2027, LATE_DECEMBER)
    public = api.client.get("/v1/public/calendars")  # no sign-in: the clock is public
    assert public.status_code == 200, public.text
    (year,) = [c for c in public.json()["calendars"] if c["year"] == 2027]
    assert year == {
        "year": 2027,
        "source": "国办发明电〔2026〕1号",
        "signed": True,
        "holiday_count": 9,
        "workday_count": 1,
        "holidays": ["2027-01-01", *(f"2027-02-{d:02}" for d in range(6, 14))],
        "workdays": ["2027-02-14"],
    }
    assert public.json()["unknown_after"] == 2027

    directory = api.client.get("/v1/directory", headers=api.sign_in(api.office.admin)).json()
    brief = {c["year"]: c for c in directory["calendars"]}
    assert brief[2027]["source"] == "国办发明电〔2026〕1号" and brief[2027]["holiday_count"] == 9
    assert brief[2027]["holidays"] is None  # in brief: the public route gives the days
    assert [c["year"] for c in directory["calendars"]] == sorted(brief)
