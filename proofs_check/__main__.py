"""``python -m proofs_check``: the same as the ``proofs-check`` command."""

from proofs_check.cli import main

raise SystemExit(main())
