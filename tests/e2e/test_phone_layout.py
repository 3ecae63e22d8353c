"""Every main page on a phone (390×844): nothing wider than the screen, the navigation behind a
menu button, the accept dialog inside the viewport. Screenshots go to the test artifacts
(``phone/``). The scan page's progress bar fills its panel."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from acceptances import services
from findings.models import Control, Scan
from findings.services import scans

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 390, 844


@pytest.fixture
def estate(catalog, make_account, make_finding, approver):
    account = make_account(name="web")
    failing = [
        make_finding(
            account=account,
            name=f"story-images-with-a-long-bucket-name-{n}",
            tags={"Environment": "prod", "Project": "story"},
        )
        for n in range(3)
    ]
    make_finding(account=account, control_ref="5.6", name="i-0123456789abcdef0")
    zone = services.save_zone(actor=approver, name="prod", rules={"tags": ["Environment=prod"]})
    acceptance = services.accept_risk(
        actor=approver,
        control=Control.objects.get(ref="2.1.2", benchmark=catalog),
        resource=failing[0].resource,
        owner=approver,
        reason="risk_owned",
        justification="Public images, reviewed quarterly.",
    )
    scan = scans.start_scan(account, dispatch=False)
    now = timezone.now()
    Scan.objects.filter(pk=scan.pk).update(
        state=Scan.State.SUCCEEDED, regions_total=2, regions_done=2, started_at=now, finished_at=now
    )
    control = Control.objects.get(ref="2.1.2", benchmark=catalog)
    return {
        "control": control,
        "resource": failing[1].resource,
        "zone": zone,
        "acceptance": acceptance,
        "scan": scan,
    }


def assert_fits(page, name: str, artifacts) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=artifacts / "phone" / f"{name}.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{name}: the page is {width} px wide on a {WIDTH} px screen"


def test_every_main_page_fits_a_phone(open_page, live_server, analyst, estate, artifacts):
    (artifacts / "phone").mkdir(parents=True, exist_ok=True)
    page = open_page(analyst, width=WIDTH, height=HEIGHT)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    url = live_server.url
    pages = {
        "overview": "/",
        "findings": "/findings/?q=story",
        "resources": "/resources/",
        "control": f"/controls/{estate['control'].pk}/",
        "resource": f"/resources/{estate['resource'].pk}/",
        "acceptances": "/acceptances/",
        "acceptance": f"/acceptances/{estate['acceptance'].pk}/",
        "zones": "/zones/",
        "zone": f"/zones/{estate['zone'].pk}/",
        "zone-new": "/zones/new",
        "scans": "/scans/",
        "scan": f"/scans/{estate['scan'].pk}/",
        "audit": "/audit/",
        "hygiene": "/hygiene/",
        "fix plans": "/fix-plans/",
    }
    for name, path in pages.items():
        page.goto(url + path)
        assert_fits(page, name, artifacts)

    # The scan's progress bar fills its panel (it was a fixed 150 px).
    page.goto(url + pages["scan"])
    bar = page.locator("#scan-progress progress").bounding_box()
    panel = page.locator("#scan-progress").bounding_box()
    assert bar["width"] >= panel["width"] - 1

    # The navigation folds behind the menu button; opened, every link is on the screen.
    page.goto(url + "/")
    nav_link = page.get_by_role("link", name="Acceptances")
    expect(nav_link).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav_link).to_be_visible()
    for box in page.locator("header.top a, header.top button").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().right)"
    ):
        assert box <= WIDTH
    page.screenshot(path=artifacts / "phone" / "menu-open.png")
    nav_link.click()
    page.wait_for_url(f"{url}/acceptances/")

    # The accept dialog takes the whole screen, its buttons inside it.
    page.goto(url + pages["control"])
    page.get_by_role("button", name="Accept risk in a zone…").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0
    assert box["x"] + box["width"] <= WIDTH and box["y"] + box["height"] <= HEIGHT
    submit = dialog.get_by_role("button", name="Accept risk")
    submit.scroll_into_view_if_needed()
    button = submit.bounding_box()
    assert button["x"] >= 0 and button["x"] + button["width"] <= WIDTH
    page.screenshot(path=artifacts / "phone" / "accept-dialog.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    dialog.get_by_role("button", name="Cancel").click()

    # Logged out, the login page fits too.
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{url}/login/**")
    assert_fits(page, "login", artifacts)
    assert problems == []
