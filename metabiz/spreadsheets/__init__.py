"""CSV and XLSX import and export through the record service.

The kernel sees this package only through `extension.register` / `init_app`.
"""
