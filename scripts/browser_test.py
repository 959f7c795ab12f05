#!/usr/bin/env python3
"""The dashboard in a real browser: Debian's chromium, driven by selenium through chromedriver.

Starts the local server binary (target/debug, built here when missing or stale) on a free
loopback port with a fresh data folder (where the operator CLI first creates a second org on the
team plan, for the plan-locked framework), signs in with the admin key the server prints, and
checks what issue 15 asks: the overview's score is the API's; marking a control Not Applicable
changes the displayed score as the API's changes; the trend chart draws its points (scan and
snapshot told apart); a locked framework shows the 402's upgrade prompt; names from the API
render as text; axe-core finds no serious or critical violation on any page; the page raises no
Content-Security-Policy violation. Webhooks: one made in Settings to a receiver this script runs on
loopback shows its secret once, its ping arrives signed as Standard Webhooks are and shows as
delivered, a private address is refused at the URL field, and a member sees an admins-only notice.
Screenshots of every page go to the folder printed at the end.

    python3 scripts/browser_test.py [--update-docs]   # with the venv from scripts/python-tools.sh

--update-docs also copies the repository page's screenshot to docs/dashboard.png.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from datetime import datetime, timedelta, timezone

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from local_server import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
SHOTS = os.path.join(ROOT, ".screenshots", "dashboard")
XSS = "<img src=x onerror=alert(1)>"


class Api:
    def __init__(self, base, key):
        self.base, self.key = base, key

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("X-API-Key", self.key)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def raw(self, method, path, data, content_type):
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("X-API-Key", self.key)
        req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def get(self, path):
        status, body = self.call("GET", path)
        assert status == 200, f"GET {path}: {status} {body}"
        return body


class Run:
    def __init__(self):
        self.passed, self.failed = 0, []

    def check(self, name, fn):
        print(f"browser: {name} ...", flush=True)
        try:
            fn()
            self.passed += 1
            print(f"browser:   ok", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported, the rest still runs
            traceback.print_exc()
            self.failed.append(f"{name}: {e}")
            print(f"browser:   FAILED: {e}", flush=True)


class Receiver:
    """The webhooks' receiver: an HTTP server on a free loopback port, in a thread of this process,
    that records every request (path, headers with lowercase names, body) and answers 200."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.read_body()
                with outer.lock:
                    outer.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def read_body(self):
                if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                    return self.rfile.read(int(self.headers.get("Content-Length") or 0))
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self, webhook_id=None):
        with self.lock:
            return [r for r in self.requests if webhook_id is None or r["headers"].get("webhook-id") == webhook_id]

    def wait_for(self, webhook_id, count=1, seconds=15):
        """The requests that carried this webhook-id, once there are `count` (polled)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            got = self.received(webhook_id)
            if len(got) >= count:
                return got
            time.sleep(0.1)
        raise AssertionError(f"{count} delivery(ies) of {webhook_id} expected within {seconds} s; the receiver got {self.received()}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def verify_signature(secret, headers, body):
    """A delivery's Standard Webhooks signature checked with `secret`: by the standardwebhooks
    package (the reference library) when installed, else by hand with hmac. Returns the payload
    and which of the two checked it."""
    try:
        from standardwebhooks import Webhook
    except ImportError:
        Webhook = None
    if Webhook is not None:
        return Webhook(secret).verify(body, headers), "standardwebhooks"
    msg_id, timestamp, signatures = headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"]
    assert abs(time.time() - int(timestamp)) < 300, f"webhook-timestamp {timestamp} is not now"
    key = base64.b64decode(secret[len("whsec_"):])
    mac = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
    assert any(hmac.compare_digest(s, f"v1,{mac}") for s in signatures.split(" ")), f"no signature matches: {signatures}"
    return json.loads(body), "hmac"


def build():
    if os.environ.get("BROWSER_TEST_NO_BUILD"):
        return
    subprocess.run(["cargo", "build", "--quiet", "-p", "compliance-local", "-p", "compliance-cli"], cwd=ROOT, check=True)


def start_server(data_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLIANCE_") and k != "DYNAMODB_ENDPOINT"}
    env["COMPLIANCE_DATA_DIR"] = data_dir
    # Bearer tokens signed with a test secret (the CLI mints one for the demo org below).
    env["JWT_HS256_SECRET"] = "browser-test-secret"
    # Team org, created before the server holds the store: its frameworks above the plan are locked.
    out = subprocess.run(
        [os.path.join(TARGET, "debug", "compliance-cli"), "create-org", "--name", "Team org", "--plan", "team", "--owner-key"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    team_key = json.loads(out)["owner_key"]["key"]
    port = free_port()
    env["COMPLIANCE_ADDR"] = f"127.0.0.1:{port}"
    # A daily snapshot shortly after the start, so the trend has both kinds of points.
    env["COMPLIANCE_SNAPSHOT_INTERVAL_SECONDS"] = "2"
    # Webhooks to the test's receiver on loopback over http, and retries a second apart.
    env["COMPLIANCE_WEBHOOK_ALLOW_LOOPBACK"] = "1"
    env["COMPLIANCE_WEBHOOK_RETRY_SCHEDULE"] = "1s,1s"
    log = open(os.path.join(data_dir, "server.log"), "w+")
    proc = subprocess.Popen([os.path.join(TARGET, "debug", "compliance-local")], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    dashboard = None
    while time.time() < deadline:
        log.flush()
        with open(log.name) as f:
            text = f.read()
        m = re.search(r"^Dashboard: (http://\S+)", text, re.M)
        if m:
            dashboard = m.group(1)
            break
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited:\n{text}")
        time.sleep(0.2)
    if not dashboard:
        proc.kill()
        raise RuntimeError("the server printed no dashboard URL")
    key = re.search(r"csk_[A-Za-z0-9_-]{16,}", text).group(0)
    demo_org = re.search(r"Created the demo org (\S+)", text).group(1)
    token = subprocess.run(
        [os.path.join(TARGET, "debug", "compliance-cli"), "mint-jwt", "--org", demo_org, "--sub", "dashboard-user", "--role", "admin"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()
    return proc, dashboard, key, team_key, token


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000", "--lang=en-US"]:
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(options=opts, service=service)


def main():
    update_docs = "--update-docs" in sys.argv
    axe_path = subprocess.run([os.path.join(ROOT, "scripts", "browser-tools.sh")], check=True, capture_output=True, text=True).stdout.strip()
    axe_source = open(axe_path).read()
    build()
    data_dir = tempfile.mkdtemp(prefix="dashboard-test-")
    shutil.rmtree(SHOTS, ignore_errors=True)
    os.makedirs(SHOTS)
    proc, dashboard, key, team_key, token = start_server(data_dir)
    base = dashboard.rstrip("/")
    api = Api(base, key)
    team = Api(base, team_key)
    receiver = Receiver()
    driver = browser()
    wait = WebDriverWait(driver, 20)
    run = Run()
    state = {}

    def shot(name, height=1000):
        path = os.path.join(SHOTS, f"{name}.png")
        driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
        if height != 1000:
            driver.set_window_size(1280, height)
            time.sleep(0.3)
        driver.save_screenshot(path)
        if height != 1000:
            driver.set_window_size(1280, 1000)
        return path

    def ready(hash_):
        wait.until(lambda d: d.find_element(By.ID, "main").get_attribute("data-ready") == hash_)

    def go(hash_):
        # Always a fresh render (the same URL again would not navigate).
        driver.execute_script("document.getElementById('main').dataset.ready = ''")
        target = f"{dashboard}{hash_}"
        if driver.current_url == target:
            driver.refresh()
        else:
            driver.get(target)
        ready(hash_)

    def axe(page):
        driver.execute_script(axe_source)
        result = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))).catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));"
        )
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        assert not bad, f"{page}: axe-core: {json.dumps(bad, indent=1)}"

    def no_csp_violation():
        logs = driver.get_log("browser")
        bad = [entry["message"] for entry in logs if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]]
        assert not bad, f"CSP violations: {bad}"
        # Failed requests are logged too (a 401 for a wrong key, the 402 of a locked framework):
        # those are the API's answers, shown by the page; anything else severe is a script error.
        severe = [entry["message"] for entry in logs if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]]
        assert not severe, f"console errors: {severe}"

    def sign_in(secret, kind="api_key"):
        driver.get(dashboard)
        ready("signin")
        Select(driver.find_element(By.NAME, "kind")).select_by_value(kind)
        driver.find_element(By.NAME, "secret").send_keys(secret)
        driver.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]").click()
        ready("#/")

    def sign_out():
        driver.find_element(By.ID, "sign-out").click()
        ready("signin")

    try:
        repos = api.get("/api/repos")["repos"]
        assert repos, "the demo org has its sample repository"
        repo_id = repos[0]["repo_id"]

        def headers_and_policy():
            with urllib.request.urlopen(dashboard) as resp:
                csp = resp.headers["Content-Security-Policy"]
                assert resp.headers["Content-Type"].startswith("text/html"), resp.headers["Content-Type"]
            assert "script-src 'self'" in csp and "unsafe" not in csp, csp
            with urllib.request.urlopen(base + "/assets/js/app.js") as resp:
                assert resp.headers["Content-Type"].startswith("text/javascript")
            with urllib.request.urlopen(base + "/api/health") as resp:
                assert json.loads(resp.read()) == {"status": "ok"}, "the API is not shadowed"

        def sign_in_page():
            driver.get(dashboard)
            ready("signin")
            shot("0-sign-in")
            axe("sign-in")
            driver.find_element(By.NAME, "secret").send_keys("csk_wrong_wrong_wrong_wrong")
            driver.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]").click()
            wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "form.signin .error")))
            assert driver.execute_script("return sessionStorage.length") == 0, "a refused key is not kept"
            sign_in(key)
            assert key not in driver.current_url
            stored = json.loads(driver.execute_script("return sessionStorage.getItem('compliance.credential')"))
            assert stored == {"kind": "api_key", "secret": key}
            assert driver.execute_script("return localStorage.length") == 0, "nothing in localStorage"

        def overview_score_is_the_apis():
            go("#/")
            cell = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#repos tr[data-repo-id='{repo_id}'] td[data-field='overall-score']")))
            expected = api.get(f"/api/compliance/score/{repo_id}")["executive_summary"]["overall_score"]
            assert cell.text == str(expected), f"overview shows {cell.text}, the API {expected}"
            # Its sparkline drew (a canvas inside the cell).
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#repos tr[data-repo-id='{repo_id}'] .sparkline canvas"))
            shot("1-overview")
            axe("overview")
            no_csp_violation()

        def trend_chart_draws_its_points():
            # Wait for the daily snapshot (the timer fires two seconds after the start).
            deadline = time.time() + 30
            while time.time() < deadline:
                points = api.get(f"/api/compliance/trend/{repo_id}?days=30")["points"]
                if any(p["source"] == "snapshot" for p in points):
                    break
                time.sleep(0.5)
            assert {p["source"] for p in points} == {"scan", "snapshot"}, points
            go(f"#/repos/{repo_id}")
            chart = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#trend .chart")))
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#trend .chart canvas"))
            assert chart.get_attribute("data-points") == str(len(points)), (chart.get_attribute("data-points"), len(points))
            # uPlot drew the series: the points' own colours are on the canvas.
            counts = driver.execute_script(
                """
                const c = document.querySelector('#trend .chart canvas');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let scan = 0, snap = 0;
                for (let i = 0; i < d.length; i += 4) {
                  if (Math.abs(d[i] - 0x1f) < 12 && Math.abs(d[i+1] - 0x4e) < 12 && Math.abs(d[i+2] - 0x79) < 12) scan++;
                  if (Math.abs(d[i] - 0xb3) < 12 && Math.abs(d[i+1] - 0x59) < 12 && d[i+2] < 20) snap++;
                }
                return [scan, snap];
                """
            )
            assert counts[0] > 50 and counts[1] > 20, f"scan and snapshot pixels on the chart: {counts}"
            rows = driver.execute_script(
                "return [...document.querySelectorAll('#trend details tbody tr')].map(r => r.children[1].textContent)"
            )
            assert sorted(set(rows)) == ["daily snapshot", "scan"], rows
            # The framework selector reloads the chart for that framework.
            Select(driver.find_element(By.ID, "trend-framework")).select_by_value("soc2")
            wait.until(lambda d: "soc2 score" in (d.find_element(By.CSS_SELECTOR, "#trend .chart").get_attribute("aria-label") or ""))
            Select(driver.find_element(By.ID, "trend-framework")).select_by_value("")
            wait.until(lambda d: "Overall score" in (d.find_element(By.CSS_SELECTOR, "#trend .chart").get_attribute("aria-label") or ""))
            time.sleep(0.3)
            shot("2-repository", height=1900)
            axe("repository")
            no_csp_violation()

        def controls_filter_and_search():
            go(f"#/repos/{repo_id}")
            score = api.get(f"/api/compliance/score/{repo_id}")
            fails = sum(1 for f in score["frameworks"].values() for c in f["controls"] if c["status"] == "fail")
            Select(driver.find_element(By.ID, "control-status")).select_by_value("fail")
            shown = driver.find_elements(By.CSS_SELECTOR, "#controls tbody tr")
            assert len(shown) == fails, (len(shown), fails)
            assert all(r.get_attribute("data-status") == "fail" for r in shown)
            Select(driver.find_element(By.ID, "control-status")).select_by_value("")
            driver.find_element(By.ID, "control-search").send_keys("CC6.1")
            shown = driver.find_elements(By.CSS_SELECTOR, "#controls tbody tr")
            assert [r.get_attribute("data-control") for r in shown] == ["CC6.1"], [r.get_attribute("data-control") for r in shown]

        def not_applicable_changes_the_score_as_the_apis():
            go(f"#/repos/{repo_id}")
            before = api.get(f"/api/compliance/score/{repo_id}")
            soc2 = before["frameworks"]["soc2"]
            control = next(c for c in soc2["controls"] if c["status"] in ("fail", "no_evidence"))["id"]
            button = driver.find_element(By.CSS_SELECTOR, f"#controls button[data-framework='soc2'][data-control='{control}']")
            button.click()
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#controls tr[data-framework='soc2'][data-control='{control}'][data-status='disabled']"))
            after = api.get(f"/api/compliance/score/{repo_id}")
            assert after["frameworks"]["soc2"]["score"] != soc2["score"], "marking a failing control N/A changes the framework's score"
            shown = driver.find_element(By.CSS_SELECTOR, "#framework-scores tr[data-framework='soc2'] td[data-field='score']").text
            assert shown == str(after["frameworks"]["soc2"]["score"]), (shown, after["frameworks"]["soc2"]["score"])
            overall = driver.find_element(By.ID, "overall-score").text
            assert overall == str(after["executive_summary"]["overall_score"]), (overall, after["executive_summary"]["overall_score"])
            # And back.
            driver.find_element(By.CSS_SELECTOR, f"#controls button[data-framework='soc2'][data-control='{control}']").click()
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#controls tr[data-framework='soc2'][data-control='{control}'][data-status]:not([data-status='disabled'])"))
            restored = driver.find_element(By.CSS_SELECTOR, "#framework-scores tr[data-framework='soc2'] td[data-field='score']").text
            assert restored == str(soc2["score"]), (restored, soc2["score"])

        def api_names_render_as_text():
            status, body = api.call("POST", "/api/repos", {"name": XSS})
            names = []
            if status == 201:
                names.append("repository")
            status, body = api.call("POST", "/api/compliance/custom-frameworks", {"key": "xss_check", "name": XSS, "controls": [{"id": "X-1", "name": XSS, "check_type": "secrets"}]})
            assert status == 200, (status, body)
            status, body = api.call("POST", "/api/api-keys", {"name": XSS, "role": "viewer"})
            assert status == 201, (status, body)
            go("#/")
            if names:
                link = wait.until(EC.presence_of_element_located((By.XPATH, "//table[@id='repos']//a[text()='<img src=x onerror=alert(1)>']")))
                assert link.text == XSS
            fw = driver.find_element(By.XPATH, "//table[@id='frameworks']//td[text()='<img src=x onerror=alert(1)>']")
            assert fw.text == XSS
            go("#/settings")
            wait.until(EC.presence_of_element_located((By.XPATH, "//table[@id='api-keys']//td[text()='<img src=x onerror=alert(1)>']")))
            wait.until(EC.presence_of_element_located((By.XPATH, "//table[@id='custom-frameworks']//td[text()='<img src=x onerror=alert(1)>']")))
            assert not driver.find_elements(By.CSS_SELECTOR, "img[src='x']"), "an <img> was created from API data"
            try:
                driver.switch_to.alert
                raise AssertionError("an alert ran")
            except NoAlertPresentException:
                pass
            api.call("DELETE", "/api/compliance/custom-frameworks/xss_check")

        def custom_framework_errors_at_their_field():
            go("#/settings")
            buttons = [b for b in driver.find_elements(By.TAG_NAME, "button") if b.text == "New custom framework"]
            buttons[0].click()
            form = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "form.custom-form")))
            form.find_element(By.CSS_SELECTOR, "[data-path='key']").send_keys("team_rules")
            form.find_element(By.CSS_SELECTOR, "[data-path='name']").send_keys("Team rules")
            form.find_element(By.CSS_SELECTOR, "tr.control-row [data-name='id']").send_keys("TR-1")
            form.find_element(By.CSS_SELECTOR, "tr.control-row [data-name='name']").send_keys("No secrets")
            form.find_element(By.CSS_SELECTOR, "tr.control-row [data-name='pass_condition']").send_keys("no_such_condition")
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            field = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr.control-row [data-name='pass_condition'][aria-invalid='true']")))
            message = driver.find_element(By.ID, field.get_attribute("aria-errormessage")).text
            assert message, "the field's message is shown"
            field.clear()
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            wait.until(EC.presence_of_element_located((By.XPATH, "//table[@id='custom-frameworks']//td[text()='Team rules']")))
            assert api.get("/api/compliance/custom-frameworks")["frameworks"][0]["key"] == "team_rules"

        def not_applicable_with_a_justification():
            go("#/settings")
            Select(driver.find_element(By.ID, "na-framework")).select_by_value("soc2")
            row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#na-controls tr[data-control='CC6.7']")))
            row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
            row.find_element(By.CSS_SELECTOR, "input[type=text]").send_keys("No data leaves the private network")
            driver.find_element(By.XPATH, "//button[text()='Save controls']").click()
            wait.until(lambda d: "Saved: 1 control" in d.find_element(By.ID, "main").text)
            control = next(c for c in api.get("/api/compliance/frameworks/soc2/controls")["controls"] if c["id"] == "CC6.7")
            assert control["disabled"] is True and control["justification"] == "No data leaves the private network", control
            # Back to applicable, justification cleared.
            go("#/settings")
            Select(driver.find_element(By.ID, "na-framework")).select_by_value("soc2")
            row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#na-controls tr[data-control='CC6.7']")))
            assert row.find_element(By.CSS_SELECTOR, "input[type=text]").get_attribute("value") == "No data leaves the private network"
            row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
            row.find_element(By.CSS_SELECTOR, "input[type=text]").clear()
            driver.find_element(By.XPATH, "//button[text()='Save controls']").click()
            wait.until(lambda d: "Saved: 0 controls" in d.find_element(By.ID, "main").text)
            control = next(c for c in api.get("/api/compliance/frameworks/soc2/controls")["controls"] if c["id"] == "CC6.7")
            assert control["disabled"] is False and not control.get("justification"), control

        def api_key_secret_shown_once_and_revoked():
            go("#/settings")
            name = wait.until(EC.presence_of_element_located((By.ID, "new-key-name")))
            name.send_keys("dashboard test key")
            driver.find_element(By.CSS_SELECTOR, "#new-key button[type=submit]").click()
            secret = wait.until(EC.presence_of_element_located((By.ID, "new-key-secret"))).text
            assert secret.startswith("csk_")
            assert Api(base, secret).call("GET", "/api/compliance/frameworks")[0] == 200
            shot("3-settings")
            axe("settings")
            go("#/settings")
            assert secret not in driver.page_source, "the secret is not shown again"
            driver.execute_script("window.confirm = () => true")
            wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button[aria-label='Revoke dashboard test key']"))).click()
            wait.until(lambda d: Api(base, secret).call("GET", "/api/compliance/frameworks")[0] == 401)

        def audit_trail_filters_and_pages():
            # More entries than one page of 10.
            entries = len(api.get("/api/audit-logs?limit=100")["entries"])
            for i in range(max(0, 12 - entries)):
                assert api.call("POST", "/api/api-keys", {"name": f"audit trail filler {i}", "role": "viewer"})[0] == 201
            go("#/audit-trail")
            wait.until(EC.presence_of_element_located((By.ID, "audit-entries")))
            Select(driver.find_element(By.ID, "audit-limit")).select_by_value("10")
            driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#audit-entries tbody tr")) == 10)
            first_page = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#audit-entries tbody tr td:nth-child(5)")]
            older = [b for b in driver.find_elements(By.TAG_NAME, "button") if b.text == "Older"][0]
            assert older.is_enabled()
            older.click()
            wait.until(lambda d: "page 2" in d.find_element(By.CSS_SELECTOR, "#audit-entries caption").text)
            second_page = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#audit-entries tbody tr td:nth-child(5)")]
            assert not set(first_page) & set(second_page), "pages do not overlap"
            Select(driver.find_element(By.ID, "audit-action")).select_by_value("SCAN_INGESTED")
            driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            wait.until(lambda d: "page 1" in d.find_element(By.CSS_SELECTOR, "#audit-entries caption").text)
            actions = {e.text for e in driver.find_elements(By.CSS_SELECTOR, "#audit-entries tbody tr td:nth-child(2)")}
            assert actions == {"SCAN_INGESTED"}, actions
            shot("4-audit-trail")
            axe("audit trail")

        def audits_create_run_findings():
            go("#/audits")
            driver.find_element(By.ID, "audit-name").send_keys("Q4 AML audit")
            Select(driver.find_element(By.ID, "audit-pack")).select_by_value("aml")
            label = driver.find_element(By.XPATH, "//form[@id='new-audit']//label[text()='Currency Transaction Reporting']")
            label.click()
            shot("5-audits")
            axe("audits")
            driver.find_element(By.CSS_SELECTOR, "#new-audit button[type=submit]").click()
            wait.until(lambda d: re.search(r"#/audits/[\w-]+$", d.current_url))
            ready(driver.current_url[driver.current_url.index("#"):])
            records = "\n".join(json.dumps(r) for r in [
                {"id": "t1", "timestamp": "2025-03-05T09:00:00Z", "customer_id": "C1", "direction": "in", "instrument": "cash", "amount_usd": 6000},
                {"id": "t2", "timestamp": "2025-03-05T15:00:00Z", "customer_id": "C1", "direction": "in", "instrument": "cash", "amount_usd": 5000},
            ])
            driver.find_element(By.ID, "run-records").send_keys(records)
            driver.find_element(By.XPATH, "//button[text()='Run the audit']").click()
            button = wait.until(EC.element_to_be_clickable((By.XPATH, "//button[text()='Findings']")))
            button.click()
            finding = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#findings article")))
            assert "aml-ctr-001" in finding.text and "31 CFR 1010.311" in finding.text, finding.text
            shot("6-audit")
            axe("audit")

        def exports_page():
            go("#/exports")
            shot("7-exports")
            axe("exports")
            oscal = api.call("GET", f"/api/compliance/score/{repo_id}/oscal")[0]
            if oscal == 200:
                driver.find_element(By.XPATH, "//button[text()='Download OSCAL']").click()
                wait.until(lambda d: "Saved oscal" in d.find_element(By.ID, "main").text)
            soa = api.call("GET", "/api/compliance/frameworks/soc2/soa")[0]
            if soa == 200:
                driver.find_element(By.XPATH, "//button[text()='Download SoA']").click()
                wait.until(lambda d: "Saved soa" in d.find_element(By.ID, "main").text)
            state["exports"] = (oscal, soa)

        def bearer_token_sign_in():
            sign_out()
            sign_in(token, kind="bearer")
            assert driver.find_element(By.ID, "session-label").text == "Signed in with a bearer token"
            assert json.loads(driver.execute_script("return sessionStorage.getItem('compliance.credential')"))["kind"] == "bearer"
            wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#repos tr[data-repo-id='{repo_id}']")))
            assert token not in driver.current_url

        def locked_framework_shows_the_upgrade_prompt():
            sign_out()
            assert driver.execute_script("return sessionStorage.length") == 0, "sign-out forgets the key"
            sign_in(team_key)
            go("#/settings")
            status, body = team.call("PUT", "/api/compliance/frameworks/enabled", {"keys": ["soc2", "hipaa"]})
            assert status == 402, (status, body)
            box = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "input[data-framework='hipaa']")))
            if not box.is_selected():
                box.click()
            driver.find_element(By.CSS_SELECTOR, "#frameworks-form button[type=submit]").click()
            prompt = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#frameworks-form .upgrade")))
            assert body["detail"]["message"] in prompt.text, (prompt.text, body)
            assert "enterprise" in prompt.text and "team" in prompt.text, prompt.text
            shot("8-upgrade-prompt")
            axe("settings (team plan)")
            no_csp_violation()

        def exceptions_queue_with_four_eyes():
            # A member asks for the demo's cross-site scripting finding to be set aside; the
            # signed-in admin asks for one of its own, which it may not decide.
            status, created = api.call("POST", "/api/api-keys", {"name": "developer", "role": "member"})
            assert status == 201, (status, created)
            member = Api(base, created["key"])
            status, theirs = member.call("POST", f"/api/repos/{repo_id}/exceptions", {
                "scope": {"rule_id": "python.flask.security.xss.direct-use-of-jinja2"},
                "kind": "false_positive", "justification": f"Autoescaped template {XSS}"})
            assert status == 201, (status, theirs)
            status, mine = api.call("POST", f"/api/repos/{repo_id}/exceptions", {
                "scope": {"cwe": 327}, "kind": "compensating_control",
                "justification": "Legacy hashes are migrated at the next login"})
            assert status == 201, (status, mine)
            driver.execute_script("sessionStorage.clear()")
            sign_in(key)
            go("#/exceptions")
            theirs_row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#exceptions tr[data-exception-id='{theirs['exception_id']}']")))
            mine_row = driver.find_element(By.CSS_SELECTOR, f"#exceptions tr[data-exception-id='{mine['exception_id']}']")
            assert not mine_row.find_elements(By.CSS_SELECTOR, "button.approve"), "the requester's own request is not approvable"
            assert "Awaiting another admin" in mine_row.text, mine_row.text
            assert XSS in theirs_row.text, "the justification renders as text"
            shot("9-exceptions")
            axe("exceptions")
            theirs_row.find_element(By.CSS_SELECTOR, "button.approve").click()
            deadline = time.time() + 20
            while time.time() < deadline:
                got = api.get(f"/api/repos/{repo_id}/exceptions/{theirs['exception_id']}")
                if got["state"] == "approved":
                    break
                time.sleep(0.2)
            assert got["state"] == "approved", got
            assert got["decided_by"]["kind"] == "api_key", got
            wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, f"#exceptions tr[data-exception-id='{theirs['exception_id']}']"))
            # The repository page shows the finding set aside, as the score does.
            go(f"#/repos/{repo_id}")
            card = wait.until(EC.presence_of_element_located((By.ID, "excepted")))
            excepted = api.get(f"/api/compliance/score/{repo_id}")["executive_summary"]["exceptions"]["excepted_findings"]
            assert f"{excepted} set aside" in card.text, (card.text, excepted)
            no_csp_violation()

        def attestations_due_and_on_the_repository_page():
            # A manual control attested 350 days ago, reviewed annually: due within 30 days.
            status, body = api.call("POST", "/api/compliance/custom-frameworks", {
                "key": "policies", "name": "Company policies",
                "controls": [{"id": "POL-1", "name": "Access review done", "check_type": "manual"}]})
            assert status == 200, (status, body)
            effective = (datetime.now(timezone.utc) - timedelta(days=350)).replace(microsecond=0)
            status, attested = api.call("PUT", "/api/compliance/frameworks/policies/controls/POL-1/attestation", {
                "statement": f"Access review done {XSS}", "owner": "secops@example.com",
                "effective_at": effective.isoformat(), "review_interval": "annual"})
            assert status == 200 and attested["state"] == "due_soon", (status, attested)
            go("#/")
            row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#attestations tr[data-control='POL-1']")))
            assert "due soon" in row.text and "secops@example.com" in row.text, row.text
            assert XSS in row.text, "the statement renders as text"
            counts = driver.find_element(By.ID, "attestation-counts").text
            assert "1 due within 30 days" in counts, counts
            shot("10-attestations-due")
            axe("overview with attestations due")
            go(f"#/repos/{repo_id}")
            cell = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#controls tr[data-framework='policies'][data-control='POL-1'] [data-field='attestation']")))
            assert "attested, due soon" in cell.text and "passes by attestation" in cell.text, cell.text
            tr = driver.find_element(By.CSS_SELECTOR, "#controls tr[data-framework='policies'][data-control='POL-1']")
            assert tr.get_attribute("data-status") == "pass", tr.get_attribute("data-status")
            axe("repository with an attested control")
            no_csp_violation()

        def alert_queue_and_four_eyes_decision():
            # An AML run finds a cash deposit over the CTR threshold; the signed-in key closes it
            # as a confirmed risk and recommends filing (through the API).
            status, audit = api.call("POST", "/api/audits", {"name": "Branch review", "policy_type": "aml"})
            assert status == 201, (status, audit)
            aid = audit["audit_id"]
            records = "\n".join(json.dumps(r) for r in [
                {"id": "t1", "timestamp": "2025-03-05T09:00:00Z", "customer_id": "C1", "direction": "in", "instrument": "cash", "amount_usd": 6000},
                {"id": "t2", "timestamp": "2025-03-05T15:00:00Z", "customer_id": "C1", "direction": "in", "instrument": "cash", "amount_usd": 5000},
            ]).encode()
            status, body = api.raw("POST", f"/api/audits/{aid}/runs", records, "application/x-ndjson")
            assert status == 201, (status, body)
            alert_id = api.get(f"/api/audits/{aid}/alerts")["alerts"][0]["alert_id"]
            base = f"/api/audits/{aid}/alerts/{alert_id}"
            status, body = api.call("POST", f"{base}/transitions", {"to": "closed", "outcome": "confirmed_risk", "reason": "Over the CTR threshold"})
            assert status == 200, (status, body)
            status, body = api.call("POST", f"{base}/recommendation", {"recommendation": "file_report", "narrative": f"Cash over 10,000 {XSS}"})
            assert status == 200, (status, body)
            go(f"#/audits/{aid}/alerts")
            row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#alerts tr[data-alert-id='{alert_id}']")))
            assert "file report" in row.text and "confirmed risk" in row.text, row.text
            axe("alert queue")
            row.find_element(By.CSS_SELECTOR, "a").click()
            # The investigator's own recommendation: no decision form, a notice instead.
            wait.until(EC.presence_of_element_located((By.ID, "decision-waits")))
            assert not driver.find_elements(By.ID, "decision-form"), "the recommender never decides"
            assert XSS in driver.find_element(By.ID, "recommendation-text").text, "the narrative renders as text"
            driver.find_element(By.CSS_SELECTOR, "#comment-form textarea").send_keys("Deposit slips requested")
            driver.find_element(By.CSS_SELECTOR, "#comment-form button[type=submit]").click()
            # The view re-renders after the step: look the trail up afresh until it says so.
            WebDriverWait(driver, 20, ignored_exceptions=[StaleElementReferenceException]).until(
                lambda d: "Deposit slips requested" in d.find_element(By.ID, "trail").text)
            shot("11-alert")
            axe("alert case view")
            # A second admin, named a reviewer by the creator, decides in the browser.
            status, second = api.call("POST", "/api/api-keys", {"name": "second reviewer", "role": "admin"})
            assert status == 201, (status, second)
            status, body = api.call("PUT", f"/api/audits/{aid}/reviewers", {"reviewers": [second["id"]]})
            assert status == 200, (status, body)
            driver.execute_script("sessionStorage.clear()")
            sign_in(second["key"])
            go(f"#/audits/{aid}/alerts/{alert_id}")
            form = wait.until(EC.presence_of_element_located((By.ID, "decision-form")))
            axe("alert case view, decidable")
            form.find_element(By.NAME, "reference").send_keys("BSA-2026-000777")
            driver.execute_script("arguments[0].value = '2026-12-01'", form.find_element(By.NAME, "filed_on"))
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            WebDriverWait(driver, 20, ignored_exceptions=[StaleElementReferenceException]).until(
                lambda d: "report filed (BSA-2026-000777)" in d.find_element(By.ID, "alert-decision").text)
            decided = api.get(base)["alert"]["decision"]
            assert decided["by"]["id"] == second["id"] and decided["filed_on"] == "2026-12-01", decided
            no_csp_violation()
            driver.execute_script("sessionStorage.clear()")
            sign_in(key)

        def webhook_ping_signed_and_delivered():
            hook_url = f"http://127.0.0.1:{receiver.port}/hook"
            go("#/settings")
            form = wait.until(EC.presence_of_element_located((By.ID, "new-webhook")))
            form.find_element(By.ID, "new-webhook-url").send_keys(hook_url)
            for event in ("score.changed", "scan.ingested"):
                form.find_element(By.CSS_SELECTOR, f"input[name='events'][value='{event}']").click()
            form.find_element(By.ID, "new-webhook-description").send_keys(f"Browser test {XSS}")
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            # The secret, shown this once.
            secret = wait.until(EC.presence_of_element_located((By.ID, "new-webhook-secret"))).text
            assert secret.startswith("whsec_"), secret
            assert len(base64.b64decode(secret[len("whsec_"):])) == 32, "32 bytes of secret"
            notice = driver.find_element(By.CSS_SELECTOR, "#new-webhook-out .notice").text
            assert "shown only this once" in notice and "copy it now" in notice, notice
            hook = next(w for w in api.get("/api/webhooks")["webhooks"] if w["url"] == hook_url)
            assert re.fullmatch(r"wh_[0-9a-z]{26}", hook["id"]) and sorted(hook["events"]) == ["scan.ingested", "score.changed"], hook
            assert "secret" not in hook, "the list never shows a secret"
            row_css = f"#webhooks-table tr[data-webhook-id='{hook['id']}']"
            row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, row_css)))
            assert XSS in row.text and "Enabled" in row.text, row.text
            # Ping: the receiver gets it signed, with the three Standard Webhooks headers.
            row.find_element(By.CSS_SELECTOR, "button[data-action='ping']").click()
            ping_id = wait.until(EC.presence_of_element_located((By.ID, "webhook-ping-sent"))).get_attribute("data-delivery-id")
            assert re.fullmatch(r"evt_[0-9a-f]{26}", ping_id), ping_id
            got = receiver.wait_for(ping_id)[0]
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
                assert got["headers"].get(name), f"{name} missing: {got['headers']}"
            assert got["path"] == "/hook" and got["headers"].get("content-type", "").startswith("application/json"), got
            payload, checker = verify_signature(secret, got["headers"], got["body"])
            print(f"browser:   the ping's signature verified with {checker}", flush=True)
            assert payload["id"] == ping_id and payload["type"] == "ping" and payload["data"] == {"webhook_id": hook["id"]}, payload
            # The deliveries view: the ping delivered, its attempt answered 200.
            deadline = time.time() + 10
            while time.time() < deadline:
                delivery = api.get(f"/api/webhooks/{hook['id']}/deliveries/{ping_id}")
                if delivery["status"] != "pending":
                    break
                time.sleep(0.2)
            assert delivery["status"] == "delivered" and delivery["attempts"][-1]["status_code"] == 200, delivery
            driver.find_element(By.CSS_SELECTOR, f"{row_css} button[data-action='deliveries']").click()
            line = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#webhook-deliveries-table tr[data-delivery-id='{ping_id}']")))
            assert driver.switch_to.active_element.tag_name == "h3", "the focus moves to the deliveries' heading"
            assert line.get_attribute("data-status") == "delivered" and line.get_attribute("data-event-type") == "ping", line.text
            codes = [li.get_attribute("data-status-code") for li in line.find_elements(By.CSS_SELECTOR, "[data-field='attempts'] li")]
            assert codes == ["200"], codes
            assert "HTTP 200" in line.text and "delivered" in line.text, line.text
            # Redeliver: one more attempt now, the same webhook-id, signed again.
            line.find_element(By.CSS_SELECTOR, "button[data-action='redeliver']").click()
            again = receiver.wait_for(ping_id, count=2, seconds=10)[1]
            assert verify_signature(secret, again["headers"], again["body"])[0]["id"] == ping_id
            deadline = time.time() + 10
            while time.time() < deadline and len(api.get(f"/api/webhooks/{hook['id']}/deliveries/{ping_id}")["attempts"]) < 2:
                time.sleep(0.2)
            driver.find_element(By.ID, "webhook-deliveries-refresh").click()
            WebDriverWait(driver, 10, ignored_exceptions=[StaleElementReferenceException]).until(
                lambda d: len(d.find_elements(By.CSS_SELECTOR, f"#webhook-deliveries-table tr[data-delivery-id='{ping_id}'] [data-field='attempts'] li")) == 2)
            driver.execute_script("document.activeElement && document.activeElement.blur()")
            driver.find_element(By.ID, "webhooks").screenshot(os.path.join(SHOTS, "12-webhooks.png"))
            axe("settings with a webhook and its deliveries")
            # Disable and enable again; the focus stays on the toggle.
            driver.find_element(By.CSS_SELECTOR, f"{row_css} button[data-action='toggle']").click()
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#webhooks-table tr[data-webhook-id='{hook['id']}'][data-enabled='false']"))
            assert api.get(f"/api/webhooks/{hook['id']}")["enabled"] is False
            assert driver.switch_to.active_element.get_attribute("data-action") == "toggle", "the focus stays on the toggle"
            driver.find_element(By.CSS_SELECTOR, f"{row_css} button[data-action='toggle']").click()
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#webhooks-table tr[data-webhook-id='{hook['id']}'][data-enabled='true']"))
            # A private address is refused, at the URL field, naming the rule.
            url = form.find_element(By.ID, "new-webhook-url")
            url.send_keys("https://10.0.0.1/")
            form.find_element(By.CSS_SELECTOR, "input[name='events'][value='exception.decided']").click()
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#new-webhook-url[aria-invalid='true']")))
            message = driver.find_element(By.ID, url.get_attribute("aria-errormessage")).text
            refused = [w for w in api.get("/api/webhooks")["webhooks"] if "10.0.0.1" in w["url"]]
            for w in refused:  # never left to deliver to a private address
                api.call("DELETE", f"/api/webhooks/{w['id']}")
            assert not refused, f"a private address was accepted: {refused}"
            assert "private" in message.lower(), message
            assert driver.switch_to.active_element.get_attribute("id") == "new-webhook-url", "the focus goes to the field"
            assert not driver.find_elements(By.ID, "new-webhook-secret"), "no secret for a refused webhook"
            axe("settings with a refused webhook URL")
            # Delete, confirmed.
            driver.execute_script("window.confirm = () => true")
            driver.find_element(By.CSS_SELECTOR, f"{row_css} button[data-action='delete']").click()
            wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, row_css))
            assert api.call("GET", f"/api/webhooks/{hook['id']}")[0] == 404
            no_csp_violation()

        def webhooks_admins_only_notice_for_a_member():
            status, created = api.call("POST", "/api/api-keys", {"name": "webhook member", "role": "member"})
            assert status == 201, (status, created)
            assert Api(base, created["key"]).call("GET", "/api/webhooks")[0] == 403
            driver.execute_script("sessionStorage.clear()")
            sign_in(created["key"])
            try:
                go("#/settings")
                notice = wait.until(EC.presence_of_element_located((By.ID, "webhooks-admin-only")))
                assert "admins" in notice.text, notice.text
                assert not driver.find_elements(By.ID, "new-webhook"), "no webhook form for a member"
                assert not driver.find_elements(By.CSS_SELECTOR, "#webhooks .error"), "a notice, not an error"
            finally:
                driver.execute_script("sessionStorage.clear()")
                sign_in(key)

        run.check("the dashboard is served with its policy and leaves the API alone", headers_and_policy)
        run.check("sign in keeps the key in sessionStorage only", sign_in_page)
        run.check("the overview's score is the API's", overview_score_is_the_apis)
        run.check("the trend chart draws its scan and snapshot points", trend_chart_draws_its_points)
        run.check("the controls table filters by status and searches", controls_filter_and_search)
        run.check("marking a control N/A changes the score as the API's does", not_applicable_changes_the_score_as_the_apis)
        run.check("names from the API render as text", api_names_render_as_text)
        run.check("custom framework errors show at their field", custom_framework_errors_at_their_field)
        run.check("a control marked N/A with its justification", not_applicable_with_a_justification)
        run.check("a new API key's secret is shown once; revoke", api_key_secret_shown_once_and_revoked)
        run.check("the audit trail filters and pages", audit_trail_filters_and_pages)
        run.check("an audit from a pack: create, run, findings with citations", audits_create_run_findings)
        run.check("the exports page", exports_page)
        run.check("the exceptions queue: approve another's request, never one's own", exceptions_queue_with_four_eyes)
        run.check("attestations due on the overview and on the repository page", attestations_due_and_on_the_repository_page)
        run.check("the alert queue and a four-eyes decision", alert_queue_and_four_eyes_decision)
        run.check("a webhook from Settings: secret once, a signed ping delivered, redelivered; a private address refused", webhook_ping_signed_and_delivered)
        run.check("webhooks: a member sees that admins manage them", webhooks_admins_only_notice_for_a_member)
        run.check("sign in with a bearer token", bearer_token_sign_in)
        run.check("a locked framework shows the upgrade prompt", locked_framework_shows_the_upgrade_prompt)
    finally:
        driver.quit()
        receiver.close()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        if not run.failed:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            print(f"browser: the server's data and log are kept in {data_dir}")

    if update_docs and not run.failed:
        shutil.copyfile(os.path.join(SHOTS, "2-repository.png"), os.path.join(ROOT, "docs", "dashboard.png"))
        print("browser: docs/dashboard.png updated")
    if "exports" in state:
        print(f"browser: exports answered OSCAL {state['exports'][0]}, SoA {state['exports'][1]}")
    print(f"browser: screenshots in {SHOTS}")
    for failure in run.failed:
        print(f"browser: FAILED {failure}")
    print(f"browser: {run.passed} passed, {len(run.failed)} failed")
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(main())
