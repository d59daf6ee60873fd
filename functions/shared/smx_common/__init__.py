"""What the split and gather functions (and the CLI and engine) share: one home per fact.

Shipped to both functions as the template's SharedCodeLayer (Lambda mounts it at /opt/python);
a checkout installs it with the project (pyproject.toml).
"""
