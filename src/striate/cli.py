"""The `striate` command line. `striate tour` walks through the lectures' worked examples."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="striate", description="Convolutional networks in plain NumPy.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("tour", help="compute the lectures' worked examples and print them")
    arguments = parser.parse_args(argv)

    if arguments.command == "tour":
        from striate.inspect.tour import run_tour

        run_tour()
    return 0


if __name__ == "__main__":
    sys.exit(main())
