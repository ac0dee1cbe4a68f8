"""metabiz: a low-code, metadata-driven business-object platform.

Sub-packages: platform (kernel), formulas (the formula language), objects
(record runtime and end-user UI), flows (approvals, automation), builder_ui.
"""

__version__ = "0.2.0"
