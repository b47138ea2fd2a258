"""Where code comes from: the user's own code, the standard library, or an installed package.

The code walk follows user code into its source and stops at the other two: the standard
library is ignored, an installed distribution counts by its version (nbflow by its own).

- user code: ``__main__``; notebook cells (their filenames are registered in
  :mod:`linecache` and exist nowhere on disk: ``<ipython-input-…>``,
  ``/tmp/ipykernel_…/….py``); any file outside the standard library and site-packages
  (so a package of the user's installed in editable mode is user code);
- the standard library: built-in and frozen modules, files under the interpreter's library
  folder but not under its site-packages;
- a package: files under a site-packages or dist-packages folder. Its distribution is found
  with :func:`importlib.metadata.packages_distributions` (read once per process), its version
  with :func:`importlib.metadata.version`.
"""

from __future__ import annotations

import functools
import linecache
import os
import site
import sys
import sysconfig
from dataclasses import dataclass

USER = "user"
STDLIB = "stdlib"
PACKAGE = "package"

_NBFLOW = "nbflow"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a module, function or class comes from.

    Attributes:
        kind: :data:`USER`, :data:`STDLIB` or :data:`PACKAGE`.
        distribution: the installed distribution (packages only).
        version: the distribution's version, ``None`` when it cannot be found.
    """

    kind: str
    distribution: str | None = None
    version: str | None = None


_USER_ORIGIN = Origin(USER)
_STDLIB_ORIGIN = Origin(STDLIB)


def module_origin(name: str) -> Origin:
    """Return the origin of the module called ``name`` (looked up in :data:`sys.modules`).

    A module that is not imported is classified by its name alone: nbflow, a built-in module,
    or else user code.
    """
    if name == "__main__":
        return _USER_ORIGIN
    top = name.partition(".")[0]
    if top == _NBFLOW:
        return _nbflow_origin()
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None) if module is not None else None
    if not isinstance(path, str):
        search = getattr(module, "__path__", None) if module is not None else None
        paths = list(search) if search is not None else []
        if paths and isinstance(paths[0], str):
            path = paths[0]
        elif name in sys.builtin_module_names or top in sys.builtin_module_names:
            return _STDLIB_ORIGIN
        elif module is not None and getattr(module, "__spec__", None) is not None:
            origin = getattr(module.__spec__, "origin", None)
            if origin in ("built-in", "frozen"):
                return _STDLIB_ORIGIN
            return _USER_ORIGIN
        else:
            return _USER_ORIGIN
    return path_origin(path, top)


def code_origin(filename: str, module: str | None) -> Origin:
    """Return the origin of code compiled from ``filename`` in module ``module``.

    Notebook cells and other sources known only to :mod:`linecache` are user code; a
    ``<string>`` filename (``exec``) belongs to its module.
    """
    if module is not None and module.partition(".")[0] == _NBFLOW:
        return _nbflow_origin()
    if filename.startswith("<"):
        return module_origin(module) if module else _USER_ORIGIN
    if filename in linecache.cache and not os.path.exists(filename):
        return _USER_ORIGIN
    top = (module or "").partition(".")[0]
    return path_origin(filename, top)


def path_origin(path: str, top_module: str) -> Origin:
    """Return the origin of a source file, ``top_module`` naming its top-level package."""
    kind = _path_kind(os.path.realpath(path))
    if kind != PACKAGE:
        return _USER_ORIGIN if kind == USER else _STDLIB_ORIGIN
    return package_origin(top_module)


@functools.cache
def package_origin(top_module: str) -> Origin:
    """Return the distribution providing ``top_module`` and its version (cached per process).

    Caching is right, not only fast: a package upgraded while this process runs is still the
    old code here until the process restarts.
    """
    if top_module == _NBFLOW:
        return _nbflow_origin()
    import importlib.metadata  # costs ~20 ms: loaded on the first package lookup only

    names = sorted(_distributions().get(top_module, ()))
    if not names:
        return Origin(PACKAGE, top_module, None)
    try:
        version: str | None = importlib.metadata.version(names[0])
    except importlib.metadata.PackageNotFoundError:
        version = None
    return Origin(PACKAGE, names[0], version)


def _nbflow_origin() -> Origin:
    module = sys.modules.get(_NBFLOW)
    version = getattr(module, "__version__", None)
    return Origin(PACKAGE, _NBFLOW, version if isinstance(version, str) else None)


@functools.cache
def _distributions() -> dict[str, list[str]]:
    import importlib.metadata

    found = importlib.metadata.packages_distributions()
    return {name: list(dists) for name, dists in found.items()}


@functools.lru_cache(maxsize=4096)
def _path_kind(path: str) -> str:
    packages, stdlib = _folders()
    if any(_under(path, folder) for folder in packages):
        return PACKAGE
    if any(_under(path, folder) for folder in stdlib):
        return STDLIB
    return USER


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


@functools.cache
def _folders() -> tuple[tuple[str, ...], tuple[str, ...]]:
    packages: set[str] = set()
    candidates = [*site.getsitepackages(), site.getusersitepackages()]
    paths = sysconfig.get_paths()
    candidates += [paths.get("purelib", ""), paths.get("platlib", "")]
    candidates += [
        entry
        for entry in sys.path
        if os.path.basename(entry.rstrip(os.sep)) in ("site-packages", "dist-packages")
    ]
    for folder in candidates:
        if folder:
            packages.add(os.path.realpath(folder))
    stdlib = {
        os.path.realpath(folder)
        for folder in (paths.get("stdlib", ""), paths.get("platstdlib", ""))
        if folder
    }
    return tuple(sorted(packages)), tuple(sorted(stdlib))
