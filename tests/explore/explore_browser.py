"""Serving `striate explore` and driving its page in headless Chromium with Selenium: shared by the tests and
screenshot.py.

Chromium and its driver come from Debian's `chromium` and `chromium-driver` packages (./test.sh installs them
where it can); CHROMIUM and CHROMEDRIVER name other binaries. Nothing is downloaded: the driver is given by
path, so Selenium Manager is never asked.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--force-device-scale-factor=1")
INSTALL = "apt-get install -y chromium chromium-driver; pip install selenium"


@contextlib.contextmanager
def serve(path):
    """Run `striate explore PATH --port 0` in a subprocess and yield its URL (read from what it prints); then
    stop it with Ctrl-C (SIGINT) and check that it exits cleanly, with status 0."""
    code = ("import argparse, sys; from striate.cli import explore; parser = argparse.ArgumentParser(); "
            "explore.add_arguments(parser); sys.exit(explore.run(parser.parse_args(sys.argv[1:])))")
    process = subprocess.Popen([sys.executable, "-c", code, os.fspath(path), "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        second = process.stdout.readline()
        if not second.startswith("serving at "):
            process.kill()
            raise AssertionError(f"striate explore did not start: {first}{second}{process.stderr.read()}")
        yield second.split()[2]
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            status = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        stderr = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
    assert status == 0, stderr


def missing():
    """Why the browser test cannot run here (None when Selenium, Chromium and chromedriver are all found)."""
    try:
        import selenium  # noqa: F401
    except ModuleNotFoundError:
        return f"Selenium is not installed ({INSTALL})"
    if _chromium() is None:
        return f"no chromium binary on PATH (set CHROMIUM, or {INSTALL})"
    if _chromedriver() is None:
        return f"no chromedriver on PATH (set CHROMEDRIVER, or {INSTALL})"
    return None


def start_browser(width=1600, height=1000):
    """A headless Chromium of `width` x `height` pixels with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _chromium()
    for flag in (*FLAGS, f"--user-data-dir={tempfile.mkdtemp(prefix='striate-chromium-')}",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=_chromedriver()), options=options)


def wait_until(driver, script, timeout=20.0, what=None):
    """Poll the JavaScript expression `script` until it is truthy; return its value, or fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return ({script});")
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"the page never reached: {what or script} (after {timeout} s)")


def open_page(driver, url):
    """Load the explorer's page and wait until its first input is shown."""
    driver.get(url)
    wait_until(driver, "document.body.dataset.ready === 'true'", what="the page ready")


def settle(driver, updates_before):
    """Wait until the page has finished showing an input that came after `updates_before` refreshes."""
    wait_until(driver, f"window.explorer.updates > {updates_before} && window.explorer.busy === 0",
               what="the page showing the new input")


def draw_stroke(driver, points):
    """Draw through `points` [(x, y), ...] (pixels from the input canvas's top-left) with the mouse held down;
    waits until the page has shown the result."""
    from selenium.webdriver.common.action_chains import ActionChains

    canvas = driver.find_element("id", "input-canvas")
    before = driver.execute_script("return window.explorer.updates;")
    width, height = canvas.size["width"], canvas.size["height"]
    actions = ActionChains(driver, duration=20)
    x, y = points[0]
    actions.move_to_element_with_offset(canvas, int(x - width / 2), int(y - height / 2)).click_and_hold()
    for next_x, next_y in points[1:]:
        actions.move_by_offset(int(next_x - x), int(next_y - y))
        x, y = next_x, next_y
    actions.release().perform()
    settle(driver, before)


def click_map_cell(driver, layer, channel, row, column):
    """Click cell (row, column) of `layer`'s feature map `channel`; waits for its arithmetic."""
    from selenium.webdriver.common.action_chains import ActionChains

    canvas = driver.find_element("css selector", f"#layer-{layer} .map[data-channel='{channel}'] canvas")
    rows, columns = driver.execute_script(f"return window.explorer.maps['{layer}'].shape.slice(0, 2);")
    cell = canvas.size["width"] / columns
    x = int((column + 0.5) * cell - canvas.size["width"] / 2)
    y = int((row + 0.5) * cell - canvas.size["height"] / 2)
    driver.execute_script("window.explorer.cell = null;")
    ActionChains(driver).move_to_element_with_offset(canvas, x, y).click().perform()
    wait_until(driver, f"window.explorer.cell && window.explorer.cell.layer === '{layer}' && "
                       "window.explorer.busy === 0", what=f"the arithmetic of a {layer} cell")
    return driver.execute_script("return window.explorer.cell;")


def _chromium():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _chromedriver():
    for name in (os.environ.get("CHROMEDRIVER"), "chromedriver"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None
