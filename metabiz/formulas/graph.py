"""The dependency graph of formula fields: evaluation order, cycles, what to recompute.

Nodes are `object.field` names; an edge says a formula reads another field.
"""

from __future__ import annotations

from collections.abc import Iterable

from metabiz.errors import FormulaError


class DependencyGraph:
    def __init__(self) -> None:
        self._deps: dict[str, set[str]] = {}

    def add(self, node: str, depends_on: Iterable[str]) -> None:
        self._deps.setdefault(node, set()).update(depends_on)

    def order(self) -> list[str]:
        """Every node after what it depends on; a cycle is a FormulaError naming it."""
        done: list[str] = []
        state: dict[str, int] = {}  # 1 visiting, 2 done

        def visit(node: str, trail: list[str]) -> None:
            mark = state.get(node)
            if mark == 2:
                return
            if mark == 1:
                cycle = trail[trail.index(node):] + [node]
                raise FormulaError("formula cycle: " + " → ".join(cycle), kind="cycle")
            state[node] = 1
            for dep in sorted(self._deps.get(node, ())):
                visit(dep, [*trail, node])
            state[node] = 2
            done.append(node)

        for node in sorted(self._deps):
            visit(node, [])
        return done

    def dependents_of(self, node: str) -> set[str]:
        """Every node that reads `node`, directly or through other formulas."""
        readers: dict[str, set[str]] = {}
        for reader, deps in self._deps.items():
            for dep in deps:
                readers.setdefault(dep, set()).add(reader)
        found: set[str] = set()
        todo = [node]
        while todo:
            for reader in readers.get(todo.pop(), ()):
                if reader not in found:
                    found.add(reader)
                    todo.append(reader)
        return found
