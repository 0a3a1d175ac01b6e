"""``python3 -m proofs_check.mutation``: the mutation harness (same options as ``proofs-check mutate``)."""

import sys

from proofs_check.mutation.cli import entry

sys.exit(entry())
