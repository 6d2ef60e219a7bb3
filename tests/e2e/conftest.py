"""End-to-end set-up: the real ``advocacy serve --demo`` in a subprocess and Debian's headless Chromium.

The server runs in the embedded mode (SQLite, in-process worker, mail as .eml files) in its own instance folder,
so these tests need nothing from the in-process app of ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the machine has no internet
    "--disable-component-update",
    "--disable-sync",
]
AXE_PACKAGE = "axe-core@4"
AXE_CACHE = Path.home() / ".cache" / "advocacy-axe"  # outside the checkout: nothing of it is committed
NPM_SECONDS = 300
SERVER_START_SECONDS = 60.0
SERVER_STOP_SECONDS = 10.0
PAGE_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    instance: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def mail_dir(self) -> Path:
        return self.instance / "mail"

    def output(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(could not read the server log {self.log_path}: {exc})"


@pytest.fixture(autouse=True)
def _clean_tables() -> None:
    """Override the root conftest's per-test cleaning: the server under test has its own database."""
    return


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_http(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http://127.0.0.1 server
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=SERVER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=SERVER_STOP_SECONDS)


@contextmanager
def running_server(folder: Path) -> Iterator[LiveServer]:
    """``advocacy serve --demo`` on a free port with its instance in ``folder``; its output goes to a file."""
    executable = Path(sys.executable).parent / "advocacy"
    assert executable.exists(), f"the advocacy console script is missing: {executable} (pip install -e .)"
    instance = folder / "instance"
    instance.mkdir()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items()
           if k not in ("ADVOCACY_DATABASE_URL", "ADVOCACY_BROKER_URL", "ADVOCACY_SMTP_URL")}
    env.update(ADVOCACY_INSTANCE_PATH=str(instance), ADVOCACY_BASE_URL=base_url, PYTHONUNBUFFERED="1")
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(executable), "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=folder,
        )
    server = LiveServer(base_url=base_url, instance=instance, log_path=log_path, process=process)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _answers_http(base_url + "/"):
            if process.poll() is not None:
                pytest.fail(f"advocacy serve exited with code {process.returncode} before answering:\n"
                            f"{server.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"advocacy serve did not answer on {base_url} within {SERVER_START_SECONDS:.0f} s:\n"
                            f"{server.output()}")
            time.sleep(0.25)
        yield server
    finally:
        _stop(process)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """``advocacy serve --demo`` on a free port; its output goes to a file (``LiveServer.output()``)."""
    with running_server(tmp_path) as server:
        yield server


@pytest.fixture(scope="module")
def module_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One ``advocacy serve --demo`` for all the tests of a module (they must not depend on each other's data)."""
    with running_server(tmp_path_factory.mktemp("server")) as server:
        yield server


def _chromium() -> Path:
    """Debian's Chromium; missing it is a failure, never a skip: the project's test command installs it."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium); "
                    "never run `playwright install`.")
    return CHROMIUM


@pytest.fixture
def chromium_path() -> Path:
    return _chromium()


@pytest.fixture(scope="module")
def module_browser() -> Iterator[Browser]:
    """One headless Chromium for all the tests of a module; each test opens contexts of its own."""
    chromium = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS,
                                             timeout=PAGE_TIMEOUT_MS * 2)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium_path: Path) -> Iterator[Page]:
    """A fresh page in a fresh headless Chromium; every Playwright wait is bounded by PAGE_TIMEOUT_MS."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS,
                                             timeout=PAGE_TIMEOUT_MS * 2)
        try:
            context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
            context.set_default_timeout(PAGE_TIMEOUT_MS)
            context.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
            yield context.new_page()
            context.close()
        finally:
            browser.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's script, installed from npm at test time into a cache folder outside the repository
    (ADVOCACY_AXE_CACHE overrides where). Missing npm is a failure, never a skip: scripts/test installs it."""
    cache = Path(os.environ.get("ADVOCACY_AXE_CACHE") or AXE_CACHE)
    script = cache / "node_modules" / "axe-core" / "axe.min.js"
    if script.exists():
        return script
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is missing: the accessibility test installs axe-core with it. Install Debian's npm "
                    "package (apt-get install npm), as scripts/test does.")
    cache.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", AXE_PACKAGE],
                            capture_output=True, text=True, timeout=NPM_SECONDS, check=False)
    if result.returncode != 0 or not script.exists():
        pytest.fail(f"npm install {AXE_PACKAGE} into {cache} failed (exit {result.returncode}):\n"
                    f"{result.stdout}\n{result.stderr}")
    return script
