"""Run the recovery command line from a checkout without installing: python cli.py --help."""

from recovery.__main__ import run

if __name__ == "__main__":
    run()
