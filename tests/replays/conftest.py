"""Golden snapshots of replays use the fixture the harness ships for users' own suites."""

from harness.testing import golden  # noqa: F401  (a pytest fixture)
