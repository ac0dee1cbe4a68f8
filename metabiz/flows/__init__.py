"""The flow engine: approval processes, automation rules, assignment rules, jobs, worker.

`metabiz.flows.extension.register` plugs it into the kernel (write listener, metadata check,
pages, panels, navigation, commands); nothing below this package imports it.
"""
