"""The page in a real browser: headless Chromium (Debian's `chromium` and
`chromium-driver`) driven by Selenium against `python -m spacy_clinkd serve`
running in a subprocess on 127.0.0.1. It pastes a note, annotates it (button
and Ctrl+Enter), finds the highlighted entities and the negation mark,
downloads the JSON, checks that nothing was requested from anywhere but the
server, and saves a screenshot.

The tiny random pipeline is served by default. To make the README's
screenshot with a trained model:

    SPACY_CLINKD_SERVE_MODEL=en_clinkd_ner SPACY_CLINKD_SCREENSHOT=docs/serve_page.png \\
        python -m pytest -q tests/serve/test_browser.py

($SPACY_CLINKD_SERVE_PYTHON runs the server with another interpreter: a
fresh virtualenv holding only the README's install, say.)
"""
import json
import os
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1100",
]
NOTE_LINES = [
    "Patient denies chest pain . no fever", "the patient has fever and cough, took aspirin",
    "history of fever ; her mother had cough",
]
# A note with characters a UTF-16 page would count wrongly (set by script:
# ChromeDriver cannot type characters outside the BMP).
UNICODE_NOTE = "😀 the patient has fever 🤒 and cough, e\u0301 denies chest pain . no fever"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("Chromium is not installed: apt-get install -y chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements-dev.txt)")
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    yield driver
    driver.quit()


def wait_for(driver, condition, timeout: float = 60.0, what: str = "the page"):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d), message=f"waiting for {what}")


def annotated_records(driver):
    """The entities shown, as (label, assertion, text) per mark."""
    from selenium.webdriver.common.by import By

    marks = driver.find_elements(By.CSS_SELECTOR, "#highlighted mark.ent")
    return [
        (
            m.get_attribute("data-label"),
            m.get_attribute("data-assertion"),
            # textContent as is (WebElement.text trims and folds whitespace)
            m.find_element(By.CLASS_NAME, "ent-text").get_attribute("textContent"),
        )
        for m in marks
    ]


def test_the_page_annotates_a_pasted_note(browser, served, http, tmp_path):
    from selenium.webdriver.common.by import By

    driver, url = browser, served.url
    driver.get(url + "/")
    wait_for(driver, lambda d: " · labels: " in d.find_element(By.ID, "model-line").text, what="the model line")
    legend = driver.find_element(By.ID, "legend").text
    assert "DISEASE" in legend and "negated" in legend and "uncertain" in legend

    # paste (type) a note and press the Annotate button
    note = driver.find_element(By.ID, "note")
    note.send_keys("\n".join(NOTE_LINES))
    driver.find_element(By.ID, "annotate").click()
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#highlighted mark.ent"), what="highlighted entities")
    text = "\n".join(NOTE_LINES)
    status, _, expected = http(f"{url}/v1/annotate", {"text": text, "id": "note"})
    record = expected["records"][0]
    shown = annotated_records(driver)
    assert shown == [(e["label"], e["assertion"], e["text"]) for e in record["entities"]]
    # ConText categories: on each mark and in the table's Context column, as the record says
    marks = driver.find_elements(By.CSS_SELECTOR, "#highlighted mark.ent")
    assert [m.get_attribute("data-context") for m in marks] == [" ".join(e["context"]) for e in record["entities"]]
    cells = driver.find_elements(By.CSS_SELECTOR, "#entity-table tbody tr td:nth-child(5)")
    assert [c.text for c in cells] == [", ".join(e["context"]) for e in record["entities"]]
    assert "history" in legend and "family" in legend and "hypothetical" in legend
    # the negation mark: struck through, flagged "negated", the score on hover
    negated = driver.find_elements(By.CSS_SELECTOR, "#highlighted mark.assertion-absent")
    assert negated, shown
    assert negated[0].find_element(By.CLASS_NAME, "flag-absent").text == "negated"
    assert "line-through" in negated[0].find_element(By.CLASS_NAME, "ent-text").value_of_css_property("text-decoration")
    assert "absent (negated)" in negated[0].get_attribute("title") and "score 0." in negated[0].get_attribute("title")
    rows = driver.find_elements(By.CSS_SELECTOR, "#entity-table tbody tr")
    assert len(rows) == len(record["entities"])
    colours = {m.value_of_css_property("background-color") for m in driver.find_elements(By.CSS_SELECTOR, "mark.ent")}
    labels = {e["label"] for e in record["entities"]}
    assert len(colours) == len(labels)  # one colour per label

    # download the JSON: annotate's record, as the API gives it
    download = driver.find_element(By.ID, "download")
    assert download.is_enabled()
    download.click()
    saved = driver.downloads / "note.json"
    wait_for(driver, lambda d: saved.exists() and saved.stat().st_size > 0, what="the download")
    time.sleep(0.2)
    assert json.loads(saved.read_text(encoding="utf8")) == record

    screenshot = tmp_path / "serve_page.png"
    assert driver.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == PNG_MAGIC
    target = os.environ.get("SPACY_CLINKD_SCREENSHOT")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, target)

    # nothing was requested from anywhere but the server, and the console is clean
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(name.startswith(url + "/") for name in resources), resources
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors


def test_offsets_hold_with_emoji_and_the_keyboard_works(browser, served, http):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver, url = browser, served.url
    driver.get(url + "/")
    wait_for(driver, lambda d: " · labels: " in d.find_element(By.ID, "model-line").text, what="the model line")
    driver.execute_script(
        "const note = document.getElementById('note'); note.value = arguments[0];"
        "note.dispatchEvent(new Event('input'));",
        UNICODE_NOTE,
    )
    note = driver.find_element(By.ID, "note")
    note.send_keys(Keys.CONTROL, Keys.ENTER)  # annotate from the keyboard
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#highlighted mark.ent"), what="highlighted entities")
    record = http(f"{url}/v1/annotate", {"text": UNICODE_NOTE, "id": "note"})[2]["records"][0]
    assert any(e["start"] > UNICODE_NOTE.index("🤒") for e in record["entities"])
    assert annotated_records(driver) == [(e["label"], e["assertion"], e["text"]) for e in record["entities"]]
    # the page shows the whole note, entity marks included, in order
    view = driver.find_element(By.ID, "highlighted")
    shown = driver.execute_script(
        "const v = arguments[0].cloneNode(true); v.querySelectorAll('.ent-tag, .ent-flag').forEach(e => e.remove());"
        "return v.textContent;",
        view,
    )
    assert shown == UNICODE_NOTE

    # the focus order follows the page: note, file, API key, Annotate, Download JSON, Clear
    note.click()
    order = []
    for _ in range(6):
        ActionChains(driver).send_keys(Keys.TAB).perform()  # to the page, not to an element (a file input takes keys as paths)
        active = driver.switch_to.active_element
        order.append(active.get_attribute("id") or active.tag_name)
    assert order == ["file", "summary", "annotate", "download", "clear", "highlighted"]


def test_an_opened_file_is_sent_as_it_is(browser, served, http, tmp_path):
    from selenium.webdriver.common.by import By

    driver, url = browser, served.url
    text = "Patient denies fever.\r\nNo cough 🤒, has diabetes.\r\nTook aspirin.\r\n"
    path = tmp_path / "crlf_note.txt"
    path.write_bytes(text.encode("utf8"))
    driver.get(url + "/")
    wait_for(driver, lambda d: " · labels: " in d.find_element(By.ID, "model-line").text, what="the model line")
    driver.find_element(By.ID, "file").send_keys(str(path))
    wait_for(driver, lambda d: "Opened crlf_note.txt" in d.find_element(By.ID, "status").text, what="the file")
    driver.find_element(By.ID, "annotate").click()
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#highlighted mark.ent"), what="highlighted entities")
    driver.find_element(By.ID, "download").click()
    saved = driver.downloads / "crlf_note.json"
    wait_for(driver, lambda d: saved.exists() and saved.stat().st_size > 0, what="the download")
    time.sleep(0.2)
    # the file's own text went to the server, CRLFs and all (a textarea would have made them LF)
    expected = http(f"{url}/v1/annotate", {"text": text, "id": "crlf_note.txt"})[2]["records"][0]
    assert json.loads(saved.read_text(encoding="utf8")) == expected
    assert any(e["start"] > text.index("\r\n") for e in expected["entities"])
