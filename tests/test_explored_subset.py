"""CI's share of the explored catalog (tests/data/explored_subset.txt): the most commonly ported ops, run over
torch's own samples, boundary variants and error inputs, end green with default flags.

The whole explored catalog is too long for CI (docs/explore.md#what-ci-runs); its findings page is generated from a
full run and checked for staleness by tests/test_findings.py."""

from __future__ import annotations

import pytest

from conftest import ROOT, read_json

pytestmark = pytest.mark.frameworks
SUBSET = [line for line in (ROOT / "tests" / "data" / "explored_subset.txt").read_text().splitlines()
          if line.strip() and not line.startswith("#")]
SETTLED = {"pass", "expected_difference", "unsupported", "accepts_invalid"}  # what an equivalent pair may end as


@pytest.fixture(scope="module")
def explored(cli, tmp_path_factory):
    path = tmp_path_factory.mktemp("explored") / "subset.json"
    result = cli("run", *SUBSET, "--explore", "--grad", "-j", "2", "-q", "--json", path)
    return result, read_json(path)


def test_the_subset_names_shipped_specs():
    assert len(SUBSET) >= 15 and len(set(SUBSET)) == len(SUBSET)
    assert all((ROOT / path).is_file() for path in SUBSET), [p for p in SUBSET if not (ROOT / p).is_file()]


def test_the_explored_subset_ends_green_with_default_flags(explored):
    result, document = explored
    unsettled = [(c["id"], c["status"], c.get("message")) for c in document["cases"] if c["status"] not in SETTLED]
    assert not unsettled, unsettled[:10]
    assert result.exit_code == 0, result.text[-3000:]


def test_every_spec_of_the_subset_runs_torch_samples_and_boundary_variants(explored):
    """Each spec runs torch's samples, unless every one is declared out of MindSpore's reach (torch 2.13 ships only
    unbatched GRUCell/LSTM samples, which MindSpore refuses: `not supported (input ndim=1)`), never `unmapped`."""
    _, document = explored
    for path in SUBSET:
        cases = [c for c in document["cases"] if c["spec"].endswith(path.removeprefix("configs/"))]
        tally = document["explore"][cases[0]["id"].split("[")[0]]
        assert not tally["unmapped"], f"{path}: samples with unmapped arguments {tally['unmapped']}"
        ran = any(",sample=" in c["id"] for c in cases)
        assert ran or sum(tally["not_supported"].values()) >= tally["samples"] > 0, f"{path}: no torch sample ran ({tally})"
        assert any(",boundary=" in c["id"] for c in cases), f"{path}: no boundary variant ran"
