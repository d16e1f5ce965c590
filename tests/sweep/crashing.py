"""A strategy that ends its process, as a crash in native code or the OOM killer would."""

from __future__ import annotations

import os

from harness.agents.strategy import Context, Strategy

EXIT_CODE = 3


class ExitProcess(Strategy):
    def on_start(self, ctx: Context) -> None:
        os._exit(EXIT_CODE)
