"""A module that travels as its source text, for processes that cannot read the sender's disk.

A job defined in notebook cells is rebuilt elsewhere from a snapshot module (see
:mod:`nbflow.notebook.snapshot`). A Dask worker on another machine cannot import that module
from a file on the client's disk, so the pointer to the job carries a :class:`ModuleSource`:
the module's name, its text and the text's SHA-256. The receiving process turns it into a
module from memory: compiled under a file name that :mod:`linecache` knows (a traceback shows
the module's real lines), run once per process for each text, and put in ``sys.modules`` under
its name, so that the functions defined in it pickle and import by that name.
"""

from __future__ import annotations

import hashlib
import linecache
import sys
import threading
import types
from dataclasses import dataclass

_installed: dict[str, str] = {}  # module name -> SHA-256 of the text it was run from
_lock = threading.Lock()


@dataclass(frozen=True)
class ModuleSource:
    """A module's name, its source text and the text's SHA-256 (hex).

    Build it with :meth:`of`; :meth:`install` makes it a module in this process.
    """

    module_name: str
    text: str
    sha256: str

    @classmethod
    def of(cls, module_name: str, text: str) -> ModuleSource:
        """The source ``text`` of module ``module_name``, with its hash."""
        return cls(module_name, text, hashlib.sha256(text.encode("utf-8")).hexdigest())

    @property
    def filename(self) -> str:
        """The file name its code is compiled under, and kept under in :mod:`linecache`."""
        return f"<nbflow module {self.module_name} {self.sha256[:12]}>"

    def install(self) -> types.ModuleType:
        """The module, run from the text the first time this process sees this SHA-256.

        Later calls return the module in ``sys.modules``; a different text under the same
        name replaces it with a new module. If running the text raises, nothing is kept.
        """
        with _lock:
            module = sys.modules.get(self.module_name)
            if module is not None and _installed.get(self.module_name) == self.sha256:
                return module
            lines = self.text.splitlines(keepends=True)
            # No modification time: linecache.checkcache() keeps the entry (as for IPython).
            linecache.cache[self.filename] = (len(self.text), None, lines, self.filename)
            code = compile(self.text, self.filename, "exec", dont_inherit=True)
            module = types.ModuleType(self.module_name)
            module.__file__ = self.filename
            previous = sys.modules.get(self.module_name)
            sys.modules[self.module_name] = module
            try:
                exec(code, module.__dict__)
            except BaseException:
                if previous is None:
                    sys.modules.pop(self.module_name, None)
                else:
                    sys.modules[self.module_name] = previous
                raise
            _installed[self.module_name] = self.sha256
            return module

    def __repr__(self) -> str:
        return f"ModuleSource({self.module_name!r}, {len(self.text)} chars, {self.sha256[:12]})"


__all__ = ["ModuleSource"]
