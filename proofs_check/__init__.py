"""Claims, their registry, the runner, the report writer and the CLI."""
