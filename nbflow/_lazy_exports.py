"""Exports a package loads from their submodules on first access (PEP 562 ``__getattr__``).

``import nbflow`` must stay cheap (the command line, ``nbflow.cli``, imports it first): every
export is named by module and imported when a name is first used, so defining a job loads
only what that needs, never assets, events, the versioning machinery, running or storing;
likewise a run loads only the parts of ``nbflow.execution`` it uses. A package opts in with::

    _EXPORTS = LazyExports(__name__, {"asset": "nbflow.definitions.asset", ...})


    def __getattr__(name: str) -> Any:
        return _EXPORTS.load(name)


    def __dir__() -> list[str]:
        return _EXPORTS.listing(globals())

Type checkers see the names through imports under ``if TYPE_CHECKING:`` in the package.

An export named like a submodule (``nbflow.definitions.asset`` the function, in the module
``nbflow.definitions.asset``) stays the export: importing a submodule binds it on its package
under its own name, which would otherwise replace the function by the module.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


class _ExportingPackage(ModuleType):
    """A package module on which a submodule never replaces the export named like it."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and value.__name__ == f"{self.__name__}.{name}":
            exported = getattr(value, name, None)
            if exported is not None and name in getattr(self, "__all__", ()):
                value = exported
        super().__setattr__(name, value)


class LazyExports:
    """The names a package exports lazily, each with the module that defines it.

    Args:
        package: the package's ``__name__``; its module must be in ``sys.modules`` (it is,
            while its ``__init__`` runs).
        modules: export name -> name of the module that defines it under that name.
    """

    def __init__(self, package: str, modules: Mapping[str, str]) -> None:
        self.package = package
        self.modules = dict(modules)
        sys.modules[package].__class__ = _ExportingPackage

    def load(self, name: str) -> Any:
        """Import the module that defines ``name`` and return it, bound on the package."""
        module = self.modules.get(name)
        if module is None:
            raise AttributeError(f"module {self.package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[self.package], name, value)
        return value

    def listing(self, defined: Iterable[str]) -> list[str]:
        """``dir()`` of the package: the names it defines and the lazy ones, sorted."""
        return sorted({*defined, *self.modules})
