"""Flow actions, one module per kind: update, create, assign, notify, webhook, return_to_pool.

Importing the package registers every kind in `ACTIONS`.
"""

from metabiz.flows.actions import assign, create, notify, pool, update, webhook  # noqa: F401
from metabiz.flows.actions.base import ACTIONS, Action, Run, Scope, compile_actions, run_actions

__all__ = ["ACTIONS", "Action", "Run", "Scope", "compile_actions", "run_actions"]
