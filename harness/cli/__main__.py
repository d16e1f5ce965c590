"""`python -m harness.cli` runs the command line (the same as the `harness` script)."""

from harness.cli import main

main()
