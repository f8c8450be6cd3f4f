"""`python -m recovery …` runs the command line."""

from recovery.cli import main

main(prog_name="recovery")
