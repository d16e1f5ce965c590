"""Open a page in headless Chromium and read what it drew and logged, over the DevTools protocol.

Chromium speaks CDP on a pipe when started with `--remote-debugging-pipe`: it reads commands on
fd 3 and writes replies and events on fd 4, each message JSON terminated by a NUL byte. That
needs no driver package and no port. One page target is attached in flat mode; console calls of
type error, uncaught exceptions and log entries of level error are collected as errors.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _as_fds_3_and_4(read_end: int, write_end: int) -> None:
    """In the child: the pipe ends as fds 3 and 4, copied to fresh fds first so that neither
    copy overwrites the other end."""
    fresh_read, fresh_write = os.dup(read_end), os.dup(write_end)
    os.dup2(fresh_read, 3)
    os.dup2(fresh_write, 4)


class Browser:
    def __init__(self, binary: str) -> None:
        # Helper processes may still write to the profile while the browser exits.
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True)
        to_browser_r, self._out = os.pipe()
        self._in, from_browser_w = os.pipe()
        # The child's fd 3 reads our commands, its fd 4 carries replies (dup2 in the child).
        self._proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=lambda: _as_fds_3_and_4(to_browser_r, from_browser_w),  # noqa: PLW1509
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def close(self) -> None:
        try:
            os.write(self._out, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self._proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        os.close(self._out)
        os.close(self._in)
        self._profile.cleanup()

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no reply from Chromium")
            chunk = os.read(self._in, 65536)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        result: dict[str, Any] = json.loads(message)
        return result

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            command["sessionId"] = session
        os.write(self._out, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + 30
        while True:
            message = self._read(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                reply: dict[str, Any] = message.get("result", {})
                return reply
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read(deadline))


def load(page: Path, script: str) -> tuple[Any, list[str]]:
    """Open `page`, wait for its load event, evaluate `script`; returns its value and the
    errors the page logged."""
    binary = chromium()
    assert binary is not None
    browser = Browser(binary)
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session)
        browser.send("Page.navigate", session, url=page.resolve().as_uri())
        browser.wait_for("Page.loadEventFired")
        value = browser.send("Runtime.evaluate", session, expression=script, returnByValue=True)
        errors = [_error(e) for e in browser.events if _error(e)]
        return value.get("result", {}).get("value"), errors
    finally:
        browser.close()


def _error(event: dict[str, Any]) -> str:
    params = event.get("params", {})
    method = event.get("method")
    if method == "Runtime.exceptionThrown":
        return str(params.get("exceptionDetails", {}).get("text", "exception"))
    if method == "Runtime.consoleAPICalled" and params.get("type") == "error":
        return " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
    if method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
        return str(params["entry"].get("text", "log error"))
    return ""
