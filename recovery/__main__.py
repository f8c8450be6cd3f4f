"""The program: the installed `recovery` command, `python -m recovery …` and `python cli.py …`.

A command runs for a fraction of a second, and most objects it makes are the modules it imports,
which live until it exits. Python's cyclic garbage collector would walk them over and over while
they are imported, and all of them once more at exit: about a fifth of a short command's time.
So the program imports with the collector paused, then freezes what it imported (`gc.freeze`:
later collections skip those objects), and freezes again when the command ends, as nothing it
made needs collecting before the process goes. A long batch still collects its own garbage while
it runs. Only the program does this: `import recovery` as a library leaves the collector alone.
"""

import gc


def run() -> None:
    """Run the command line with the arguments of this process."""
    gc.disable()
    try:
        from recovery.cli import main
    finally:
        gc.freeze()
        gc.enable()
    try:
        main(prog_name="recovery")
    finally:
        gc.freeze()


if __name__ == "__main__":
    run()
