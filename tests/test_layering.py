"""Data flows one way: theory imports nothing from numerics or proofs_check, and does not load torch."""

from __future__ import annotations

import subprocess
import sys


def test_theory_is_importable_without_numerics_proofs_check_or_torch() -> None:
    code = (
        "import sys, pkgutil, importlib, theory\n"
        "for m in pkgutil.walk_packages(theory.__path__, 'theory.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [n for n in ('torch', 'numerics', 'proofs_check') if n in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"theory imported {out.stdout.strip()}"


def test_numerics_does_not_import_proofs_check() -> None:
    code = (
        "import sys, pkgutil, importlib, numerics\n"
        "for m in pkgutil.walk_packages(numerics.__path__, 'numerics.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('proofs_check' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
