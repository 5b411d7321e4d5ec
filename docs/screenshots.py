"""Take the README's screenshots from a real stack: `.venv/bin/python docs/screenshots.py`.

Starts `jobcast up --demo` on free ports in a temporary directory (so the demo market maker
trades), drives Debian's Chromium (`apt-get install -y chromium`) with Playwright through every
page, and writes the PNGs into docs/. Nothing here is faked: the jobs run on the workers, the
market is the demo's, the chat goes through the WebSocket.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import redis
from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from jobcast.embedded_redis import free_port  # noqa: E402
from jobcast.keys import create_key  # noqa: E402

OUT = REPO / "docs"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


class Stack:
    """`jobcast up --demo` in `workdir`, until `stop`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir, self.port = workdir, free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
        env |= {"JOBCAST_DATA_DIR": str(workdir / "var"), "PYTHONPATH": str(REPO)}
        argv = [
            sys.executable,
            "-m",
            "jobcast",
            "up",
            "--demo",
            "--api-port",
            str(self.port),
            "--flower-port",
            str(free_port()),
            "--redis-port",
            str(free_port()),
        ]
        self.log = workdir / "up.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(argv, env=env, cwd=workdir, stdout=out, stderr=out)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_up(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while "Jobcast is up" not in self.log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"jobcast up did not start:\n{self.log.read_text()}")
            time.sleep(0.5)

    def key(self, name: str | None = None) -> str:
        """The dev key, or a new principal's key when `name` is given."""
        secrets = json.loads((self.workdir / "var" / "dev-secrets.json").read_text())
        if name is None:
            return str(secrets["dev_api_key"])
        client = redis.Redis.from_url((self.workdir / "var" / "redis.url").read_text().strip())
        raw, _ = create_key(client, secrets["key_secret"], name)
        client.close()
        return raw

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def trips(path: Path, rows: int) -> Path:
    """A table with shapes worth a histogram: log-normal distances, fares that follow them."""
    rng = random.Random(7)  # noqa: S311 (sample data, not secrets)
    cities = ["Lisbon", "Porto", "Braga", "Faro", "Coimbra", "Aveiro"]
    lines = ["trip_id,city,distance_km,fare_eur,passengers,tipped"]
    for i in range(rows):
        km = math.exp(rng.gauss(1.4, 0.6))
        fare = 3.25 + km * 0.95 + rng.gauss(0, 1.2)
        lines.append(
            f"{i},{rng.choice(cities)},{km:.2f},{fare:.2f},"
            f"{min(4, 1 + int(rng.expovariate(1.3)))},{rng.random() < 0.35}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def sign_in(page: Page, url: str, key: str) -> None:
    page.goto(url + "/")
    page.fill("#key", key)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#conn[data-state=live]")


def shoot(page: Page, name: str, full: bool = False) -> None:
    page.wait_for_timeout(400)  # let the last frame paint
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
    print(f"docs/{name}.png", (OUT / f"{name}.png").stat().st_size // 1024, "KB")


def jobs_page(page: Page, data: Path) -> None:
    page.set_input_files("#file", str(data))
    page.click("form.new-job label:has-text('aggregate')")
    page.check("input[aria-label='group by city']")
    for metric in ("count", "mean", "sum"):
        page.check(f"input[aria-label='{metric} of fare_eur']")
    page.check("input[aria-label='mean of distance_km']")
    page.click("form.new-job button[type=submit]")
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]", timeout=120_000)
    page.click("table.aggregate th button:has-text('fare_eur_sum')")
    page.click("table.aggregate th button:has-text('fare_eur_sum')")
    shoot(page, "jobs-aggregate")
    page.click("form.new-job label:has-text('profile')")
    page.click("form.new-job button[type=submit]")
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]", timeout=120_000)
    page.wait_for_selector(".histograms figure")
    shoot(page, "jobs", full=True)


def market_page(page: Page, url: str, key: str) -> None:
    page.click("nav a[data-page=market]")
    page.wait_for_selector(".level.bid")
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as rest:
        quote: dict[str, Any] = rest.get("/market/BTC-USD").json()
    best_bid, best_ask = float(quote["best_bid"]), float(quote["best_ask"])
    for qty, price in (("3", best_ask + 2), ("2", best_bid - 3)):
        page.fill(".ticket input[name=quantity]", qty)
        page.fill(".ticket input[name=price]", f"{price:.1f}")
        page.click(".ticket button[type=submit]")
        page.wait_for_timeout(800)
    page.wait_for_selector(".fills li[data-order-id]")
    page.wait_for_timeout(3000)
    shoot(page, "market")


def conversation(page: Page, other: Page) -> list[tuple[Page, str]]:
    return [
        (other, "Morning! Is the trips upload done?"),
        (page, "Profiled 300k rows while I watched the bar. Distances look log-normal."),
        (other, "Nice. And the city totals?"),
        (page, "Aggregate by city is in: Lisbon leads on fares, barely."),
        (other, "I'll put a bid on BTC below the spread before the close."),
        (page, "Your order is on the ladder, I can see it."),
    ]


def chat_page(page: Page, other: Page) -> None:
    page.click("nav a[data-page=chat]")
    other.click("nav a[data-page=chat]")
    page.wait_for_selector(".people li:has-text('maria')")
    for who, text in conversation(page, other):
        who.fill("#say", text)
        who.press("#say", "Enter")
        page.wait_for_selector(f".chat-log li:has-text({json.dumps(text[:20])})")
    shoot(page, "chat")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp))
        try:
            stack.wait_up()
            data = trips(Path(tmp) / "trips.csv", 300_000)
            capture(stack, data)
        finally:
            stack.stop()


def capture(stack: Stack, data: Path) -> None:
    key, maria = stack.key(), stack.key("maria")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport=DESKTOP).new_page()
        page.goto(stack.url + "/")
        shoot(page, "signin")
        sign_in(page, stack.url, key)
        other = browser.new_context(viewport=PHONE).new_page()
        sign_in(other, stack.url, maria)
        jobs_page(page, data)
        market_page(page, stack.url, key)
        chat_page(page, other)
        shoot(other, "chat-phone")
        page.click("nav a[data-page=monitor]")
        page.wait_for_timeout(2000)
        shoot(page, "monitor")
        dark = browser.new_context(viewport=PHONE, color_scheme="dark").new_page()
        sign_in(dark, stack.url, key)
        dark.click("nav a[data-page=market]")
        dark.wait_for_selector(".level.bid")
        shoot(dark, "market-phone-dark", full=True)
        browser.close()


if __name__ == "__main__":
    main()
