"""`recovery serve` in a real browser: Debian's Chromium, driven by Debian's chromium-driver.

A clinician logs in, makes a plan, records a clearance; the patient opens the link at phone
width. Screenshots of each step are kept in test-artifacts/ (CI keeps them with its log).
"""

from __future__ import annotations

import os

import pytest

from conftest import CHROMIUM, DRIVER, shot

PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.skipif(
    (CHROMIUM is None or DRIVER is None) and not os.environ.get("CI"),
    reason="Debian's chromium and chromium-driver are not installed",
)


def submit(driver: object, button: object) -> None:
    """Click a form's button and wait until the next page has replaced this one: the click
    returns before the page loads, and reading the old page then fails under the reader.

    The old page is marked with a variable of its own, and the wait is for a loaded page without
    it. (Waiting for the old element to go stale asked Chromium about a node of a document that
    was being replaced, which it sometimes answered with an error instead of "stale".) While the
    pages change, the browser may answer a script with an error: the wait asks again."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("window.recoveryPageBefore = true")  # type: ignore[attr-defined]
    button.click()  # type: ignore[attr-defined]
    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(  # type: ignore[arg-type]
        lambda d: d.execute_script(
            "return window.recoveryPageBefore === undefined && document.readyState === 'complete'"
        )
    )


def page_with(driver: object, text: str) -> str:
    """The page's text, which must show `text`."""
    from selenium.webdriver.common.by import By

    body: str = driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
    assert text in body, body
    return body


def test_a_clinician_and_a_patient_in_a_browser(server: str, browser: object) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(f"{server}/login")  # type: ignore[attr-defined]
    driver.find_element(By.NAME, "email").send_keys("ana@clinic.example")  # type: ignore[attr-defined]
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)  # type: ignore[attr-defined]
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form button"))  # type: ignore[attr-defined]
    page_with(driver, "Find a plan id")

    driver.get(f"{server}/plans/new")  # type: ignore[attr-defined]
    form = driver.find_element(By.CSS_SELECTOR, "form[action='/plans']")  # type: ignore[attr-defined]
    form.find_element(By.NAME, "plan_id").send_keys("B-7")
    # A date field's typing order depends on the browser's locale: set its value as a date picker would.
    driver.execute_script("arguments[0].value = '2027-03-01'", form.find_element(By.NAME, "surgery_date"))  # type: ignore[attr-defined]
    zone = form.find_element(By.NAME, "timezone")
    assert zone.get_attribute("value")  # the server's zone, to be changed to the patient's
    zone.clear()
    zone.send_keys("Europe/Berlin")
    shot(driver, "1-new-plan")
    submit(driver, form.find_element(By.CSS_SELECTOR, "button"))
    page_with(driver, "Plan B-7")
    link = driver.find_element(By.CSS_SELECTOR, ".notice a").get_attribute("href")  # type: ignore[attr-defined]
    assert driver.find_element(By.CSS_SELECTOR, ".qr svg")  # type: ignore[attr-defined]
    shot(driver, "2-plan-with-link")

    record = driver.find_element(By.CSS_SELECTOR, "form[action$='/actuals']")  # type: ignore[attr-defined]
    record.find_element(By.CSS_SELECTOR, "option[value='cleared-to-drive']").click()
    driver.execute_script("arguments[0].value = '2027-04-28'", record.find_element(By.NAME, "date"))  # type: ignore[attr-defined]
    submit(driver, record.find_element(By.CSS_SELECTOR, "button"))
    page = page_with(driver, "revision 2")
    assert "cleared-to-drive recorded on 2027-04-28" in page
    shot(driver, "3-clearance-recorded")

    driver.set_window_size(390, 844)  # type: ignore[attr-defined]
    driver.get(link)  # type: ignore[attr-defined]
    page = page_with(driver, "Add the plan to your calendar")
    assert "iPhone, iPad or Mac" in page
    # on the phone, adding the plan to the calendar is on the first screen (it came after the
    # agenda and every red flag, about 3,000 px down); whom to call comes before it
    shown = driver.execute_script(  # type: ignore[attr-defined]
        "return [document.querySelector('.apps a').getBoundingClientRect().bottom, window.innerHeight]"
    )
    assert shown[0] <= shown[1], shown
    assert page.index("Questions, or a warning sign") < page.index("Add the plan to your calendar")
    width = driver.execute_script("return document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 390, "the patient's page must not scroll sideways on a phone"
    shot(driver, "4-patient-phone")


def test_a_patient_checks_in_at_phone_width_and_the_clinician_sees_the_chart(
    server: str, browser: object, tmp_path: object
) -> None:
    """A tendinopathy plan: the patient answers the check-in with one tap per answer at phone
    width, then reports a warning sign and sees what to do; the clinician sees the chart."""
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    from selenium.webdriver.common.by import By

    from recovery.serve.store import open_store

    driver = browser
    driver.get(f"{server}/login")  # type: ignore[attr-defined]
    driver.find_element(By.NAME, "email").send_keys("ana@clinic.example")  # type: ignore[attr-defined]
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)  # type: ignore[attr-defined]
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form button"))  # type: ignore[attr-defined]
    driver.get(f"{server}/plans/new?protocol=proximal-hamstring-tendinopathy")  # type: ignore[attr-defined]
    form = driver.find_element(By.CSS_SELECTOR, "form[action='/plans']")  # type: ignore[attr-defined]
    form.find_element(By.NAME, "plan_id").send_keys("C-3")
    today = datetime.now(UTC).date()
    first_visit = today - timedelta(days=10)
    driver.execute_script(f"arguments[0].value = '{first_visit}'", form.find_element(By.NAME, "surgery_date"))  # type: ignore[attr-defined]
    zone = form.find_element(By.NAME, "timezone")
    zone.clear()
    zone.send_keys("UTC")
    submit(driver, form.find_element(By.CSS_SELECTOR, "button"))
    page_with(driver, "Plan C-3")
    link = driver.find_element(By.CSS_SELECTOR, ".notice a").get_attribute("href")  # type: ignore[attr-defined]
    handout = driver.find_element(By.CSS_SELECTOR, "a[href$='/handout']").get_attribute("href")  # type: ignore[attr-defined]
    plan_url = handout.removesuffix("/handout")
    # The week before, as a clinic system passed it on (the chart has something to show).
    store = open_store(f"sqlite:///{Path(str(tmp_path)) / 'recovery.db'}")
    public_id = plan_url.rstrip("/").rsplit("/", 1)[1]
    for back, pain, morning in (
        (6, "4", "same"),
        (5, "3", "same"),
        (4, "5", "worse"),
        (3, "3", "same"),
        (2, "2", "better"),
        (1, "2", "same"),
    ):
        store.check_in(
            {"done": "yes", "pain": pain, "morning": morning},
            public_id=public_id,
            day=today - timedelta(back),
            who="api:test",
        )

    driver.set_window_size(390, 844)  # type: ignore[attr-defined]
    driver.get(f"{link}#check-in")  # type: ignore[attr-defined]
    page_with(driver, "Did you do today's exercises?")
    choices = [
        driver.find_element(
            By.XPATH, f"//form[contains(@class,'check-in')]//label[input[@name='{name}' and @value='{value}']]"
        )  # type: ignore[attr-defined]
        for name, value in (("done", "yes"), ("pain", "3"), ("morning", "same"))
    ]
    for choice in choices:
        size = choice.size
        assert min(size["height"], size["width"]) >= 44, size  # a large target for a thumb
        choice.click()  # one tap per answer
    assert driver.find_element(By.CSS_SELECTOR, "input[name='pain'][value='3']").is_selected()  # type: ignore[attr-defined]
    shot(driver, "5-check-in-answered")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "button.send"))  # type: ignore[attr-defined]
    page_with(driver, "Thank you. Your answers are saved.")
    assert driver.find_element(By.CSS_SELECTOR, "input[name='done'][value='yes']").is_selected()  # type: ignore[attr-defined]
    width = driver.execute_script("return document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 390, "the check-in must not scroll sideways on a phone"
    shot(driver, "6-check-in-saved")

    driver.find_element(By.CSS_SELECTOR, "details.signs summary").click()  # type: ignore[attr-defined]
    submit(driver, driver.find_element(By.CSS_SELECTOR, "button.sign"))  # type: ignore[attr-defined]
    page = page_with(driver, "Do this now")
    top = driver.execute_script("return document.getElementById('warning').getBoundingClientRect().top")  # type: ignore[attr-defined]
    assert 0 <= top < 844, "the warning sign's action is on the first screen"
    assert "emergency" in page.lower()
    shot(driver, "7-warning-sign")

    driver.set_window_size(1280, 1000)  # type: ignore[attr-defined]
    driver.get(f"{plan_url}#check-ins")  # type: ignore[attr-defined]
    page = page_with(driver, "The stage's rule says: warning sign")
    bars = driver.find_elements(By.CSS_SELECTOR, "svg.chart rect")  # type: ignore[attr-defined]
    assert len(bars) == 7
    chart = driver.find_element(By.CSS_SELECTOR, "svg.chart")  # type: ignore[attr-defined]
    assert chart.size["width"] > 300
    assert chart.size["height"] > 100
    shot(driver, "8-clinician-chart")
    driver.get(f"{server}/?attention=red-flag")  # type: ignore[attr-defined]
    page_with(driver, "C-3")
