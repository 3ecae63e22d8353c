"""The OpenAPI schema is valid and complete; the docs are served by the app, from no CDN."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_a_warning(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/v1/findings/export/",
        "/api/v1/acceptances/bulk/",
        "/api/v1/acceptances/{id}/extend/",
        "/api/v1/zones/preview/",
        "/api/v1/zones/{id}/watch/",
        "/api/v1/posture/",
        "/api/v1/tokens/{id}/revoke/",
    ):
        assert f"  {path}:" in text, path


def test_the_schema_documents_202_errors_and_export_types(api, viewer):
    schema = api(viewer).get("/api/v1/schema/?format=json").json()
    start = schema["paths"]["/api/v1/scans/"]["post"]["responses"]
    assert {"202", "400", "401", "403", "429"} <= set(start)
    export = schema["paths"]["/api/v1/findings/export/"]["get"]
    assert set(export["responses"]["200"]["content"]) == {"text/csv", "application/json"}
    params = {p["name"] for p in export["parameters"]}
    assert {"format", "zone", "severity", "last_seen_after", "accepted"} <= params
    assert schema["components"]["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"


def test_the_schema_and_docs_need_a_login(api):
    for url in ("/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/"):
        assert api().get(url).status_code in (401, 403), url


@pytest.mark.parametrize("url", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_docs_load_nothing_from_outside(api, viewer, url):
    response = api(viewer).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), html
    assets = re.findall(r"""(?:src|href)=["']?(/static/[^"' >]+)""", html)
    assert assets


def test_the_docs_assets_come_from_the_sidecar_package(client, viewer):
    client.force_login(viewer)
    response = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert response.status_code == 200
