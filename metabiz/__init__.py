"""metabiz: a low-code, metadata-driven business-object platform.

Sub-packages: platform (kernel), formulas (the formula language), objects
(record runtime and end-user UI), flows (approvals, automation), reports (reports and
dashboards), spreadsheets (import and export), builder_ui (the administrators' builder).
"""

__version__ = "0.4.0"
