"""Griffe extension: render the library's Sphinx-style roles as API links.

The docstrings of ``adda_keras`` refer to each other the Sphinx way,
``:func:`make_detector``` or ``:class:`~adda_keras.models.vaegan.VAEGAN```,
which Markdown would show literally (":func:" followed by code). Once the
package is loaded, this extension rewrites every such role into an *optional*
mkdocs-autorefs cross-reference: a link where the target is documented on the
site, plain code where it is not (an external name such as ``keras.Model``),
never a warning, so ``mkdocs build --strict`` does not depend on which
objects a docstring mentions.

Targets are resolved like Sphinx does: an absolute dotted path, else a path
relative to the object holding the docstring and its parents, else a unique
object of that name anywhere in the package. ``~`` shows only the last name.
Sphinx's ``text::`` literal-block marker becomes ``text:``.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(
    r":(?:py:)?(?:mod|class|func|meth|attr|data|obj|exc|const):`(?P<tilde>~?)(?P<target>[A-Za-z_][\w.]*)(?P<call>\(\))?`"
)
LITERAL_BLOCK = re.compile(r"(?<=\S)::(?=\n\s*\n)")


def _walk(obj: griffe.Object) -> list[griffe.Object]:
    """``obj`` and every object defined under it (aliases excluded)."""
    found = [obj]
    for member in obj.members.values():
        if not member.is_alias:
            found += _walk(member)
    return found


class SphinxRoles(griffe.Extension):
    """Rewrite ``:role:`target``` in docstrings into optional autorefs."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Rewrite the docstrings of every object of the package, once it is fully loaded."""
        objects = _walk(pkg)
        by_name: dict[str, list[str]] = {}
        for obj in objects:
            by_name.setdefault(obj.name, []).append(obj.path)
        for obj in objects:
            if obj.docstring is None:
                continue
            text = ROLE.sub(lambda match, obj=obj: self._link(pkg, obj, match, by_name), obj.docstring.value)
            obj.docstring.value = LITERAL_BLOCK.sub(":", text)

    def _link(self, pkg: griffe.Module, obj: griffe.Object, match: re.Match[str], by_name: dict[str, list[str]]) -> str:
        target = match["target"]
        shown = (target.rsplit(".", 1)[-1] if match["tilde"] else target) + (match["call"] or "")
        identifier = self._resolve(pkg, obj, target, by_name) or target
        return f'<autoref identifier="{identifier}" optional><code>{shown}</code></autoref>'

    @staticmethod
    def _resolve(pkg: griffe.Module, obj: griffe.Object, target: str, by_name: dict[str, list[str]]) -> str | None:
        """The canonical path of ``target`` seen from ``obj``, or None if not in the package."""
        scopes: list[str] = []
        scope: griffe.Object | None = obj
        while scope is not None:
            scopes.append(f"{scope.path}.{target}")
            scope = scope.parent
        candidates = [target, *scopes]
        for candidate in candidates:
            if candidate != pkg.path and not candidate.startswith(f"{pkg.path}."):
                continue
            relative = candidate[len(pkg.path) + 1 :]
            try:
                found = pkg[relative] if relative else pkg
            except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
                continue
            try:
                return found.final_target.path if found.is_alias else found.path
            except (griffe.AliasResolutionError, griffe.CyclicAliasError):
                return None
        matches = by_name.get(target.rsplit(".", 1)[-1], [])
        suffix = f".{target}"
        matches = [path for path in matches if path.endswith(suffix)]
        return matches[0] if len(matches) == 1 else None
