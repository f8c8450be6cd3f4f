"""Run the recovery command line from a checkout without installing: python cli.py --help."""

from recovery.cli import main

if __name__ == "__main__":
    main(prog_name="recovery")
