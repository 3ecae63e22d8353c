"""Dark mode follows the system setting: with a dark colour scheme the overview is dark with
light, readable text (the style sheet's own rules: no inline styles under the CSP)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Relative luminance (WCAG) of an element's computed colour or background.
LUMINANCE = """([selector, property]) => {
  const value = getComputedStyle(document.querySelector(selector))[property];
  const [r, g, b] = value.match(/[\\d.]+/g).slice(0, 3).map(Number).map(c => {
    c = c / 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}"""


def contrast(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def test_the_overview_is_dark_with_light_text_when_the_system_is(
    open_page, viewer, catalog, make_account, make_finding, artifacts
):
    make_finding(account=make_account(name="web"), name="story-images")
    page = open_page(viewer, color_scheme="dark")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=artifacts / "overview-dark.png", full_page=True)

    def lum(selector: str, prop: str) -> float:
        return page.evaluate(LUMINANCE, [selector, prop])

    background = lum("body", "backgroundColor")
    assert background < 0.05, "the page background is not dark"
    for selector in ("body", "main h1", "main table td"):
        text = lum(selector, "color")
        assert text > 0.5, f"{selector}: the text is not light"
    # Tables sit on their own dark surface, their text readable on it (WCAG AA: 4.5).
    table = lum("main table", "backgroundColor")
    assert table < 0.05
    assert contrast(lum("main table td", "color"), table) >= 4.5
    assert contrast(lum("main .muted, main .meta", "color"), background) >= 4.5
