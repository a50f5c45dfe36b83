"""`striate tour [--pictures DIR]`: the lectures' worked examples, computed by striate; with --pictures, each
example's picture or GIF is written into DIR and the tour says which file shows which example."""

import os


def add_arguments(parser):
    parser.add_argument("--pictures", metavar="DIR",
                        help="also write each example's picture or GIF into DIR (made when missing)")


def run(arguments):
    from striate.cli import CommandError
    from striate.inspect.tour import run_tour

    folder = arguments.pictures
    if folder is not None:
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise CommandError(f"--pictures {folder}: a file is there; give a folder")
        os.makedirs(folder, exist_ok=True)
    examples = run_tour(pictures=folder)
    if folder is not None:
        count = sum(example.picture is not None for example in examples)
        print(f"\nwrote {count} pictures into {folder}")
    return 0
