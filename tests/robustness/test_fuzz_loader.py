"""Property-based fuzzing of the loader (the CI-sized run; benchmarks/fuzz_loader.py runs >= 10,000).

Real seed files (tests/robustness/mutations.py) get byte flips, overwrites, truncations, insertions,
deletions and repeats. Every load must either succeed with finite float32 pixels in [0, 1] and a 2-D
shape, or raise ImageLoadError with one of the loader's known messages (known_errors.KNOWN_MESSAGES): a
loader that wrapped every library error in one generic message would fail, as would any other exception,
a NaN, a load that never returns (the hang guard), or a library warning that escapes to the user. How long
inputs take is measured by the benchmark, not asserted here (a wall-clock limit fails on a slower machine).
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness.known_errors import load_outcome
from tests.robustness.mutations import HEADER_BYTES, OPS, SEED_NAMES, Mutation, apply_mutations, seeds

# Generous: the slowest of 10,000 benchmark inputs took well under a second; CI machines are shared.
CI_EXAMPLES = 200

mutations = st.lists(
    st.builds(
        Mutation,
        op=st.sampled_from(OPS),
        pos=st.one_of(st.integers(0, HEADER_BYTES), st.integers(0, 1 << 31)),
        arg=st.integers(0, 1 << 16),
        extra=st.binary(min_size=1, max_size=16),
    ),
    min_size=1,
    max_size=4,
)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    # Module-scoped (hypothesis re-runs the test body many times inside one function-scoped call).
    with tempfile.TemporaryDirectory(prefix="fuzz_") as tmp:
        yield Path(tmp)


@pytest.mark.parametrize("name", SEED_NAMES)
def test_every_seed_loads(workdir: Path, name: str) -> None:
    suffix, data = seeds()[name]
    target = workdir / f"seed{suffix}"
    target.write_bytes(data)
    assert load_outcome(target).status == "ok"


# A C-level hang would never return to Python: the thread method ends the run with a stack dump instead.
@pytest.mark.timeout(300, method="thread")
@settings(max_examples=CI_EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEED_NAMES), changes=mutations, draft=st.sampled_from([None, 224]))
def test_mutated_files_load_or_fail_with_a_known_message(
    workdir: Path, seed: str, changes: list[Mutation], draft: int | None
) -> None:
    suffix, data = seeds()[seed]
    target = workdir / f"input{suffix}"
    target.write_bytes(apply_mutations(data, changes))
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        outcome = load_outcome(target, draft_size=draft)
    assert outcome.status in ("ok", "known"), outcome
    assert [str(w.message) for w in shown] == []  # library warnings go to the log, not to stderr
    # How long an input takes is benchmarks/fuzz_loader.py's to report (its slowest input), on a known machine;
    # here the hang guard above catches an input that never returns.
