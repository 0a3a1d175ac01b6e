"""Mutation testing of the closed forms in ``theory`` against the claims (``proofs-check mutate``).

Modules: :mod:`~proofs_check.mutation.operators` (the AST mutator and mutant ids),
:mod:`~proofs_check.mutation.dependencies` (which claims call which function, traced and cached),
:mod:`~proofs_check.mutation.forking` (fresh forked process per mutant, time limits),
:mod:`~proofs_check.mutation.execution` (swap a mutant in, run its claims), :mod:`~proofs_check.mutation.harness`
(selection and scoring), :mod:`~proofs_check.mutation.report` (``mutation.md``/``mutation.json``),
:mod:`~proofs_check.mutation.equivalent` (the equivalent-mutant catalogue), :mod:`~proofs_check.mutation.cli`.
See ``docs/verdict-strength.md``.
"""
