"""The websocket message limit: 10 a second per connection, the 11th closes it (MECHANICS 6)."""

from __future__ import annotations

from harness.venue.gateway.ws_limit import NS_PER_S, ConnectionLimit

T0 = 1_723_161_600 * NS_PER_S
MS = 1_000_000


def test_eleventh_message_in_a_second_closes_the_connection_until_it_reconnects() -> None:
    limit = ConnectionLimit(10, 500 * MS)
    assert [limit.check("ws:a", T0 + i * MS) for i in range(10)] == [0] * 10
    assert limit.check("ws:b", T0 + 10 * MS) == 0  # connections are counted apart
    assert limit.check("ws:a", T0 + 10 * MS) == 500 * MS
    assert limit.check("ws:a", T0 + 400 * MS) == 110 * MS  # still closed: nothing arrives
    # Back at T0 + 510 ms, in the same second, with a fresh count.
    assert [limit.check("ws:a", T0 + 510 * MS + i) for i in range(10)] == [0] * 10
    assert limit.check("ws:a", T0 + 600 * MS) == 500 * MS


def test_the_count_starts_again_every_second() -> None:
    limit = ConnectionLimit(10, NS_PER_S)
    for second in range(3):
        start = T0 + second * NS_PER_S
        assert [limit.check("ws:a", start + i * 90 * MS) for i in range(10)] == [0] * 10


def close(limit: ConnectionLimit, connection: str, now: int, ip: str) -> bool:
    """Eleven messages in one second from `now`: the last closes; whether the IP is due a ban."""
    for i in range(10):
        assert limit.admit(connection, now + i * MS, ip) == (0, False)
    closed_ns, ban_due = limit.admit(connection, now + 10 * MS, ip)
    assert closed_ns == limit.reconnect_ns
    return ban_due


def test_an_ip_whose_connections_are_closed_repeatedly_is_due_a_ban() -> None:
    limit = ConnectionLimit(10, NS_PER_S, closes_before_ban=3, close_window_ns=60 * NS_PER_S)
    # Two closes of one connection and one of another, same IP, within a minute: the third bans.
    assert not close(limit, "ws:a", T0, "10.0.0.1")
    assert not close(limit, "ws:b", T0 + 5 * NS_PER_S, "10.0.0.1")
    assert not close(limit, "ws:c", T0 + 6 * NS_PER_S, "10.0.0.9")  # another IP counts apart
    # Messages refused while closed are no new close.
    assert limit.admit("ws:a", T0 + 500 * MS, "10.0.0.1") == (510 * MS, False)
    assert close(limit, "ws:a", T0 + 20 * NS_PER_S, "10.0.0.1")
    # The count starts again after a ban; closes older than the window drop out.
    assert not close(limit, "ws:a", T0 + 30 * NS_PER_S, "10.0.0.1")
    assert not close(limit, "ws:a", T0 + 40 * NS_PER_S, "10.0.0.1")
    assert not close(limit, "ws:a", T0 + 95 * NS_PER_S, "10.0.0.1")  # T0 + 30 s left the window
    assert close(limit, "ws:a", T0 + 97 * NS_PER_S, "10.0.0.1")


def test_zero_closes_before_ban_never_bans() -> None:
    limit = ConnectionLimit(10, NS_PER_S)
    assert not any(close(limit, "ws:a", T0 + k * 2 * NS_PER_S, "10.0.0.1") for k in range(20))
