"""Accessibility checks for the browser tests: axe-core (from the
axe-selenium-python package) and keyboard-only navigation."""
from axe_selenium_python import Axe
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

BLOCKING = ("serious", "critical")


def axe_problems(driver):
    """Serious and critical axe-core violations on the page as it is now."""
    axe = Axe(driver)
    axe.inject()
    result = axe.run()
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:4]}: "
            f"{v['nodes'][0].get('failureSummary', '')}"
            for v in result["violations"] if v["impact"] in BLOCKING]


def unlabelled_buttons(driver):
    """Displayed buttons (and links styled as buttons) with no accessible name."""
    return [b.get_attribute("outerHTML")[:160]
            for b in driver.find_elements(By.CSS_SELECTOR, "button, [role=button], a.button, input[type=submit]")
            if b.is_displayed() and not (b.accessible_name or "").strip()]


def screen_problems(driver):
    return axe_problems(driver) + [f"button without a name: {b}" for b in unlabelled_buttons(driver)]


def focused_id(driver):
    return driver.execute_script("const a = document.activeElement; return a && a !== document.body ? (a.id || a.outerHTML.slice(0, 60)) : ''")


def tab_to(driver, element_id, limit=25):
    """Presses TAB until the element has the focus; returns the ids passed."""
    path = []
    for _ in range(limit):
        now = focused_id(driver)
        if now == element_id:
            return path
        path.append(now)
        ActionChains(driver).send_keys(Keys.TAB).perform()
    raise AssertionError(f"TAB never reached #{element_id}; it went through {path}")


def press(driver, key):
    ActionChains(driver).send_keys(key).perform()
