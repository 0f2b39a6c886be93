"""The gate table: every gate fails beyond its limit and passes within it, accuracy gates without enough
labels read "not gated" (never "pass"), figures an artifact cannot give fail, runtimes with torch's kernels
are held to bit-for-bit pixels, and docs/bundle.md shows the same table as the manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightship.export.formats import FORMATS
from lightship.export.gates import GATES, gate_table, gates_markdown, judge

DOCS = Path(__file__).resolve().parents[2] / "docs" / "bundle.md"


def passing(kind: str) -> dict[str, dict[str, float]]:
    """Figures that pass every gate of ``kind`` with room to spare."""
    return {
        "model_size": {
            "top1_agreement": 1.0,
            "max_abs_prob_diff": 0.0,
            "accuracy_drop": 0.0,
            "worst_class_accuracy_drop": 0.0,
        },
        "off_size": {"top1_agreement": 1.0, "pixels_max_diff": 0.0, "pixels_differing": 0.0},
        "artifact": {"quantized_layers": 5},
    }


def verdicts(kind: str, figures: dict, torch_kernels: bool = False) -> dict[str, bool | None]:
    return {r.gate: r.passed for r in judge(kind, figures, torch_kernels)}


@pytest.mark.parametrize("kind", list(GATES))
def test_every_gate_fails_just_beyond_its_limit_and_only_it(kind):
    assert all(verdicts(kind, passing(kind)).values())
    for gate in GATES[kind]:
        figures = passing(kind)
        step = 1e-3 if gate.limit < 1 else 0.5
        figures[gate.row][gate.figure] = gate.limit - step if gate.op == ">=" else gate.limit + step
        result = next(r for r in judge(kind, figures, False) if r.gate == gate.name)
        assert result.passed is False and "(by " in result.note, (gate.name, result)
        assert [g for g, ok in verdicts(kind, figures).items() if not ok] == [gate.name]
        figures[gate.row][gate.figure] = gate.limit  # the limit itself passes
        assert verdicts(kind, figures)[gate.name] is True


def test_accuracy_without_enough_labels_is_not_gated_never_passed():
    figures = passing("int8")
    del figures["model_size"]["accuracy_drop"], figures["model_size"]["worst_class_accuracy_drop"]
    results = {r.gate: r for r in judge("int8", figures, False)}
    assert results["int8.accuracy_drop"].passed is None
    assert results["int8.accuracy_drop"].note == "not gated: too few labelled samples (needs 100)"
    assert results["int8.class_accuracy_drop"].note == "not gated: no class has 100 labelled samples"
    assert results["int8.top1_agreement"].passed is True, "agreement gates still judge the artifact"


def test_an_artifact_without_its_network_input_fails_the_pixel_gates():
    figures = passing("fp32")
    del figures["off_size"]["pixels_max_diff"], figures["off_size"]["pixels_differing"]
    figures["off_size"]["pixels_max_diff_missing"] = "the artifact has no `pixels` output"
    results = {r.gate: r for r in judge("fp32", figures, False)}
    assert results["off_size.pixels_max_diff"].passed is False
    assert "no `pixels` output" in results["off_size.pixels_max_diff"].note


def test_torch_kernels_must_match_bit_for_bit_others_within_one_level():
    figures = passing("fp32")
    figures["off_size"] |= {"pixels_max_diff": 1.0, "pixels_differing": 0.0005}
    assert verdicts("fp32", figures, torch_kernels=False)["off_size.pixels_max_diff"] is True
    exact = verdicts("fp32", figures, torch_kernels=True)
    assert exact["off_size.pixels_max_diff"] is False and exact["off_size.pixels_differing"] is False


def test_fp16_is_held_to_its_own_prob_bound_not_fp32s():
    """The same figures (|Δprob| 5e-3, the size of fp16 rounding) pass fp16's gates and fail fp32's."""
    figures = passing("fp16")
    figures["model_size"]["max_abs_prob_diff"] = 5e-3
    assert all(verdicts("fp16", figures).values())
    assert verdicts("fp32", figures)["fp32.max_abs_prob_diff"] is False


def test_nan_fails():
    figures = passing("fp32")
    figures["model_size"]["max_abs_prob_diff"] = float("nan")
    assert verdicts("fp32", figures)["fp32.max_abs_prob_diff"] is False


def test_every_format_names_a_gate_kind_and_int8_kinds_count_their_layers():
    for name in FORMATS:
        row = FORMATS[name]
        assert row.gate in GATES, name
        assert row.gate == row.precision, (
            f"{name}: a {row.precision} artifact takes the {row.precision} gates"
        )
        if row.gate == "int8":
            assert row.quantized_layers is not None, f"{name}: the int8.quantized_layers gate reads the file"


def test_docs_show_the_table_the_manifest_records():
    assert gates_markdown() in DOCS.read_text(), (
        "docs/bundle.md: paste lightship.export.gates.gates_markdown()"
    )
    recorded = gate_table()["kinds"]
    assert {kind: [g["gate"] for g in gates] for kind, gates in recorded.items()} == {
        kind: [g.name for g in gates] for kind, gates in GATES.items()
    }
