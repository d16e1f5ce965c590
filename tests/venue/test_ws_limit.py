"""The websocket message limit: 10 a second per connection, the 11th closes it (MECHANICS 6)."""

from __future__ import annotations

from harness.venue.ws_limit import NS_PER_S, ConnectionLimit

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
