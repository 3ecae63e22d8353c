"""The Findings and Resources pages: every row across controls, one search box (name, id, ARN,
tag, control title words), the overview's filters, sortable columns, keyset pages and exports
of exactly what is filtered."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from findings import queries
from findings.models import AccountRegion

pytestmark = pytest.mark.django_db


def shown(response) -> list[str]:
    """Resource names, in the order the page lists them."""
    assert response.status_code == 200, response.content[:300]
    rows = response.context["page"].rows
    return [getattr(row, "resource", row).name for row in rows]


def findings(client, **params) -> list[str]:
    return shown(client.get(reverse("finding-list"), params))


def resources(client, **params) -> list[str]:
    return shown(client.get(reverse("resource-list"), params))


def test_the_search_finds_names_ids_arns_tags_and_control_title_words(login, viewer, estate):
    client = login(viewer)
    images = estate.findings["images"].resource
    assert findings(client, q="story-l") == ["story-logs"]
    assert findings(client, q="arn:aws:s3:::scratch") == ["scratch"]
    assert findings(client, q=str(images.pk)) == ["story-images"]
    assert findings(client, q="Environment=dev") == ["scratch"]
    assert sorted(findings(client, q="prod")) == ["story-images", "story-logs"]
    # A word of a control's title: 5.6 "Ensure that EC2 Metadata Service only allows IMDSv2".
    assert findings(client, q="IMDS") == ["i-0abc"]
    assert findings(client, q="5.6") == ["i-0abc"]
    assert findings(client, q="nothing like this") == []
    assert resources(client, q="IMDS") == ["i-0abc"]
    assert resources(client, q="Environment=prod", sort="name") == ["story-images", "story-logs"]


def test_columns_sort_both_ways(login, viewer, estate):
    client = login(viewer)
    everything = ["i-0abc", "ok-bucket", "scratch", "story-images", "story-logs"]
    assert findings(client, sort="resource") == everything
    assert findings(client, sort="-resource") == everything[::-1]
    by_account = findings(client, sort="account")  # data before web
    assert by_account[0] == "i-0abc"
    assert findings(client, sort="status")[-1] == "ok-bucket"  # fail before pass
    assert resources(client, sort="-name") == everything[::-1]
    page = client.get(reverse("finding-list"), {"sort": "resource"}).content.decode()
    assert 'aria-sort="ascending"' in page and "sort=-resource" in page
    bad = client.get(reverse("finding-list"), {"sort": "password"})
    assert bad.status_code == 400 and "sort" in bad.context["form"].errors


def test_the_overview_filters_narrow_both_lists(login, viewer, estate, catalog):
    # The region filter offers the regions scans have covered.
    AccountRegion.objects.create(account=estate.other_account, region="eu-west-1")
    client = login(viewer)
    assert findings(client, account=estate.other_account.pk) == ["i-0abc"]
    assert findings(client, region="eu-west-1") == ["i-0abc"]
    assert findings(client, zone=estate.prod.pk, sort="resource") == ["story-images", "story-logs"]
    assert findings(client, severity="high") == ["i-0abc"]
    assert findings(client, status="pass") == ["ok-bucket"]
    assert findings(client, status="fail", account=estate.account.pk, sort="resource") == [
        "scratch",
        "story-images",
        "story-logs",
    ]
    assert findings(client, control=catalog.controls.get(ref="5.6").pk) == ["i-0abc"]
    assert findings(client, resource_type="AWS::EC2::Instance") == ["i-0abc"]
    assert resources(client, status="fail", account=estate.account.pk, sort="name") == [
        "scratch",
        "story-images",
        "story-logs",
    ]
    assert resources(client, zone=estate.prod.pk, sort="name") == ["story-images", "story-logs"]


def test_pages_follow_each_other_by_key_and_the_count_is_bounded(
    login, viewer, estate, make_finding, monkeypatch
):
    for n in range(6):
        make_finding(account=estate.account, name=f"extra-{n}")
    monkeypatch.setattr("findings.views.PAGE_SIZE", 4)
    client = login(viewer)
    url = reverse("finding-list")

    def every_page(sort: str) -> list[str]:
        seen: list[str] = []
        params = {"sort": sort}
        for _ in range(5):
            response = client.get(url, params)
            seen += shown(response)
            assert response.context["page"].count == 11
            cursor = response.context["page"].next_cursor
            if cursor is None:
                return seen
            assert f"after={cursor}" in response.content.decode()
            params = {"sort": sort, "after": cursor}
        raise AssertionError("more pages than rows")

    by_name = every_page("-resource")
    assert by_name == sorted(by_name, reverse=True) and len(set(by_name)) == 11
    # A date column, ties broken by id: each row once, in the order of discovery.
    by_date = every_page("first_seen")
    assert len(by_date) == len(set(by_date)) == 11 and by_date[-1] == "extra-5"

    monkeypatch.setattr(queries.lists, "COUNT_LIMIT", 10)
    assert "More than 10 in all" in client.get(url).content.decode()
    bad = client.get(url, {"after": "not-a-cursor"})
    assert bad.status_code == 400 and "after" in bad.content.decode()


def test_exports_hold_exactly_the_filtered_rows(login, viewer, estate):
    client = login(viewer)
    page = client.get(reverse("finding-list"), {"zone": estate.prod.pk}).content.decode()
    assert f"{reverse('finding-export')}?zone={estate.prod.pk}&amp;format=csv" in page

    response = client.get(reverse("finding-export"), {"zone": estate.prod.pk, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(r["resource_name"] for r in rows) == ["story-images", "story-logs"]
    assert set(rows[0]) == set(queries.EXPORT_FIELDS)

    response = client.get(reverse("finding-export"), {"q": "IMDS", "format": "json"})
    records = json.loads(b"".join(response.streaming_content))
    assert [r["resource_name"] for r in records] == ["i-0abc"]
    assert records[0]["controls"] == ["CIS 2.0.0 5.6"]

    response = client.get(
        reverse("resource-export"), {"status": "fail", "q": "story", "format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(r["name"] for r in rows) == ["story-images", "story-logs"]
    assert {r["failing"] for r in rows} == {"1"}

    # A filter the export cannot read is refused by name, never ignored.
    response = client.get(reverse("finding-export"), {"severity": "dire", "format": "csv"})
    assert response.status_code == 400 and "severity" in response.content.decode()
    response = client.get(reverse("resource-export"), {"format": "xml"})
    assert response.status_code == 400 and "format" in response.content.decode()


def test_outsiders_cannot_list_or_export(login, outsider, estate):
    client = login(outsider)
    for name in ("finding-list", "finding-export", "resource-list", "resource-export"):
        assert client.get(reverse(name)).status_code == 403
