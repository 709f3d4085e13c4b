"""The web app's own address (what `otter up` prints as "Web app:") is a landing
page, not the broken-link screen; a room link pasted there opens its lobby."""
from selenium.webdriver.common.by import By

from otter_e2e import browsers, otter, output_dir  # noqa: F401  (fixtures)
from otter_e2e import error_text, wait


def screen(d):
    return d.execute_script("return document.body.dataset.screen")


def test_web_app_address_is_a_landing_page(otter, browsers, output_dir):
    d = browsers.new()
    d.get(otter.info["web_app"])
    wait(d, lambda dd: screen(dd) in ("landing", "error", "lobby"), 30, "no screen showed")
    assert screen(d) == "landing", f"{otter.info['web_app']} opened {screen(d)}: {error_text(d)}"
    page = d.find_element(By.ID, "screen-landing")
    text = page.text
    # what Otter is, and the two ways into a call
    assert "Otter is a self-hosted video call" in text
    assert "otter create-room" in text
    assert d.find_element(By.ID, "landing-link").is_displayed()
    # nothing of the error screen
    assert not d.find_element(By.ID, "screen-error").is_displayed()
    assert "doesn't work" not in d.find_element(By.TAG_NAME, "body").text
    d.save_screenshot(str(output_dir / "landing.png"))

    # something that is not a room link: told what one looks like, on the same page
    box = d.find_element(By.ID, "landing-link")
    box.send_keys(otter.info["web_app"])
    d.find_element(By.ID, "landing-open").click()
    problem = d.find_element(By.ID, "landing-problem")
    wait(d, lambda dd: "room link looks like" in problem.text, 5, "no word on the bad link")
    assert screen(d) == "landing"
    assert box.get_attribute("aria-invalid") == "true"

    # a room link: its lobby opens
    room = otter.create_room(max_peers=2)
    box.clear()
    box.send_keys(room["url"])
    d.find_element(By.ID, "landing-open").click()
    wait(d, lambda dd: screen(dd) in ("lobby", "error"), 60, "the pasted link did not open")
    assert screen(d) == "lobby", error_text(d)
    assert room["roomId"] in d.current_url


def test_a_broken_room_link_still_says_it_does_not_work(otter, browsers):
    # the landing page is for the bare address only: a link that lost its token is still refused
    room = otter.create_room(max_peers=2)
    d = browsers.new()
    d.get(room["url"].split("#")[0])
    wait(d, lambda dd: screen(dd) in ("landing", "error", "lobby"), 30)
    assert screen(d) == "error"
    assert d.find_element(By.CSS_SELECTOR, '[data-testid="error"]').get_attribute("data-code") == "invalid-link"
