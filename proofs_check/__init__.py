"""Claims, their registry, the task engine, the runner, the report writer and the CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("icl-verify")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
