"""Departments and mandates changed at run time, on the embedded log with SQLite and on Kafka
with PostgreSQL: `gongshi departments set-kinds|disable|add` record a change with who and when;
the running worker checks each publication against the mandate in force on the date it arrives
(a change from a later date does not count yet); a publication refused under the old mandate is
replayed once the mandate is fixed; /api/v1/departments shows the mandates in force."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from api.app import create_app
from infra.bootstrap import Container
from tests.builders import TODAY, envelope, penalty_payload, registered, uscc_for
from tests.contract.operating import Platform, acts

TAX_PENALTY = ["penalty.imposed", "penalty.amended", "penalty.revoked"]


def penalty(uscc: str, publication_id: str) -> dict:
    return envelope(
        "penalty.imposed",
        penalty_payload(decision_no=f"津税罚〔2026〕{publication_id[-1]}号"),
        uscc=uscc,
        publication_id=publication_id,
        department="TJ-TAX",
    )


def test_a_mandate_changed_at_run_time_counts_from_its_date_and_a_refused_publication_is_replayed(
    operated: Platform,
) -> None:
    c = operated.container
    amr, tax = c.credentials.add_signing_key("TJ-AMR"), c.credentials.add_signing_key("TJ-TAX")
    uscc = uscc_for(9501)
    operated.publish(registered(uscc=uscc, publication_id="MD-R"), amr)
    operated.apply()

    # from tomorrow, TJ-TAX may publish performance records only: today's penalty still counts
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    operated.cli("departments", "set-kinds", "TJ-TAX", "--kinds", "performance.recorded", "--from", tomorrow)
    operated.publish(penalty(uscc, "MD-P1"), tax)
    operated.apply()
    assert operated.status("MD-P1")["status"] == "applied"  # type: ignore[index]

    # from today: the next batch of the same worker refuses it
    operated.cli("departments", "set-kinds", "TJ-TAX", "--kinds", "performance.recorded")
    operated.publish(penalty(uscc, "MD-P2"), tax)
    operated.apply()
    status = operated.status("MD-P2")
    assert status is not None and (status["status"], status["code"]) == ("rejected", "outside_mandate")
    with TestClient(create_app(Container(c.settings))) as client:  # the API's own process
        [listed] = [d for d in client.get("/api/v1/departments").json() if d["code"] == "TJ-TAX"]
    assert listed["kinds"] == ["performance.recorded"]

    # the mandate is fixed; the refused penalty is replayed and applied
    operated.cli("departments", "set-kinds", "TJ-TAX", "--kinds", ",".join(TAX_PENALTY))
    operated.cli("dlq", "replay", "--reason", "outside_mandate", "--department", "TJ-TAX")
    operated.apply()
    assert operated.status("MD-P2")["status"] == "applied"  # type: ignore[index]

    history = operated.cli("departments", "history", "TJ-TAX")
    assert history.count("kinds_set") == 3 and "cli:" in history and tomorrow in history
    actions = [a["action"] for a in acts(operated)]
    assert actions == ["departments.kinds_set"] * 2 + ["departments.kinds_set", "dlq.replayed"]


def test_a_disabled_department_is_refused_and_a_new_one_publishes_its_mandate(operated: Platform) -> None:
    c = operated.container
    amr = c.credentials.add_signing_key("TJ-AMR")
    uscc = uscc_for(9601)
    operated.publish(registered(uscc=uscc, publication_id="MD-D0"), amr)
    operated.cli("departments", "disable", "TJ-TAX")
    tax = c.credentials.add_signing_key("TJ-TAX")
    operated.publish(penalty(uscc, "MD-D1"), tax)
    operated.apply()
    status = operated.status("MD-D1")
    assert status is not None and (status["status"], status["code"]) == ("rejected", "department_disabled")
    assert "TJ-TAX" not in operated.cli("departments", "list")

    operated.cli(
        "departments", "add", "TJ-CUSTOMS2", "--name", "天津新港海关", "--type", "customs",
        "--kinds", "penalty.imposed",
    )  # fmt: skip
    operated.cli("departments", "add", "TJ-CUSTOMS2", "--name", "x", "--type", "customs", "--kinds",
                 "penalty.imposed", code=2)  # fmt: skip
    operated.cli(
        "departments",
        "add",
        "TJ-X",
        "--name",
        "x",
        "--type",
        "tax",
        "--kinds",
        "registration.registered",
        code=2,
    )  # fmt: skip  (a tax office may not register entities)
    customs = c.credentials.add_signing_key("TJ-CUSTOMS2")
    message = {**penalty(uscc, "MD-D2"), "department": "TJ-CUSTOMS2"}
    operated.publish(message, customs)
    operated.apply()
    assert operated.status("MD-D2")["status"] == "applied"  # type: ignore[index]
    with TestClient(create_app(Container(c.settings))) as client:  # the API's own process
        codes = [d["code"] for d in client.get("/api/v1/departments").json()]
    assert "TJ-CUSTOMS2" in codes and "TJ-TAX" not in codes
    added = [a for a in acts(operated) if a["action"] == "departments.added"]
    assert added[0]["arguments"]["department"] == "TJ-CUSTOMS2"
    assert added[0]["arguments"]["fields"]["kinds"] == ["penalty.imposed"]
