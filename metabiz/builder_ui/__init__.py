"""The builder: the administrators' designer under /builder and the Metadata API it runs on.

On top of every package; it plugs in through `extension.py` (navigation, blueprints).
"""
