"""The websocket message limit: at most N incoming messages a second per connection (MECHANICS 6).

Venues do not answer the message over the limit: they close the connection. The sim counts the
messages of each connection in fixed one-second windows aligned to the epoch (like the other
limits); the one that goes over closes the connection, and until the client has reconnected
(`reconnect_ns` later: handshake and login) nothing it sends arrives. Messages sent while the
connection is closed do not count. `check` says how long the connection stays closed, 0 when the
message passes.

Repeated closes. Venues ban IPs whose connections they keep closing. `admit` also takes the
message's source IP: when a close is the `closes_before_ban`-th of that IP within
`close_window_ns` (a sliding window, every connection of the IP counted), it says the IP is due
for a ban, and the IP's count starts again. The ban itself is the rate limiter's (418, the same
growing durations as for ignored Retry-Afters); 0 `closes_before_ban` never bans.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

NS_PER_S: Final = 1_000_000_000
MINUTE_NS: Final = 60 * NS_PER_S


@dataclass(slots=True)
class _Connection:
    window: int = -1
    count: int = 0
    closed_until: int = 0


class ConnectionLimit:
    def __init__(
        self,
        messages_per_s: int,
        reconnect_ns: int,
        *,
        closes_before_ban: int = 0,
        close_window_ns: int = 5 * MINUTE_NS,
    ) -> None:
        if messages_per_s < 1 or reconnect_ns < 1:
            raise ValueError("a websocket limit needs messages_per_s >= 1 and reconnect_ns >= 1")
        if closes_before_ban < 0 or close_window_ns < 1:
            raise ValueError("closes_before_ban must be >= 0 and close_window_ns >= 1")
        self.messages_per_s = messages_per_s
        self.reconnect_ns = reconnect_ns
        self.closes_before_ban = closes_before_ban
        self.close_window_ns = close_window_ns
        self._connections: dict[str, _Connection] = {}
        self._closes: dict[str, deque[int]] = {}

    def check(self, connection: str, now: int) -> int:
        """Count one message at `now`; 0 if it passes, else ns until the connection is back."""
        return self.admit(connection, now, "")[0]

    def admit(self, connection: str, now: int, ip: str) -> tuple[int, bool]:
        """`check`, and whether this message's close makes its IP due for a ban."""
        state = self._connections.get(connection)
        if state is None:
            state = self._connections[connection] = _Connection()
        if now < state.closed_until:
            return state.closed_until - now, False
        window = now // NS_PER_S
        if window != state.window:
            state.window, state.count = window, 0
        state.count += 1
        if state.count <= self.messages_per_s:
            return 0, False
        state.closed_until = now + self.reconnect_ns
        state.window, state.count = -1, 0
        return self.reconnect_ns, self._closed_repeatedly(ip, now)

    def _closed_repeatedly(self, ip: str, now: int) -> bool:
        if not ip or not self.closes_before_ban:
            return False
        closes = self._closes.setdefault(ip, deque())
        closes.append(now)
        while closes[0] <= now - self.close_window_ns:
            closes.popleft()
        if len(closes) < self.closes_before_ban:
            return False
        closes.clear()
        return True
