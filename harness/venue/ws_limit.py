"""The websocket message limit: at most N incoming messages a second per connection (MECHANICS 6).

Venues do not answer the message over the limit: they close the connection. The sim counts the
messages of each connection in fixed one-second windows aligned to the epoch (like the other
limits); the one that goes over closes the connection, and until the client has reconnected
(`reconnect_ns` later: handshake and login) nothing it sends arrives. Messages sent while the
connection is closed do not count. `check` says how long the connection stays closed, 0 when the
message passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

NS_PER_S: Final = 1_000_000_000


@dataclass(slots=True)
class _Connection:
    window: int = -1
    count: int = 0
    closed_until: int = 0


class ConnectionLimit:
    def __init__(self, messages_per_s: int, reconnect_ns: int) -> None:
        if messages_per_s < 1 or reconnect_ns < 1:
            raise ValueError("a websocket limit needs messages_per_s >= 1 and reconnect_ns >= 1")
        self.messages_per_s = messages_per_s
        self.reconnect_ns = reconnect_ns
        self._connections: dict[str, _Connection] = {}

    def check(self, connection: str, now: int) -> int:
        """Count one message at `now`; 0 if it passes, else ns until the connection is back."""
        state = self._connections.get(connection)
        if state is None:
            state = self._connections[connection] = _Connection()
        if now < state.closed_until:
            return state.closed_until - now
        window = now // NS_PER_S
        if window != state.window:
            state.window, state.count = window, 0
        state.count += 1
        if state.count <= self.messages_per_s:
            return 0
        state.closed_until = now + self.reconnect_ns
        state.window, state.count = -1, 0
        return self.reconnect_ns
