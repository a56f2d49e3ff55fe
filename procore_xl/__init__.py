"""procore-xl: Procore data in Excel (xlwings add-in, command line, built-in Procore sandbox)."""

__version__ = "0.1.0"
