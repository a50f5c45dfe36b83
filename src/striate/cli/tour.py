"""`striate tour`: the lectures' worked examples, computed by striate."""


def add_arguments(parser):
    """No options."""


def run(arguments):
    from striate.inspect.tour import run_tour

    run_tour()
    return 0
