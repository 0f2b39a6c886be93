"""The verification gates: one table, written into every manifest and shown in docs/bundle.md.

A format's row in the export-format table names its gate kind (``gate``: fp32, fp16 or int8), so a new
format takes the right gates by its row. Each gate compares one figure of one row of images with a limit:

- ``model_size``: stratified test images at the model's size, against the eager model;
- ``off_size``: real images at other sizes, against the *training data path* (decode, resize and round
  to uint8 as the pipeline does, then the model), including the artifact's own network input (its
  ``pixels`` output): runtimes that run torch's kernels (TorchScript) must match it bit for bit, the
  others within one level on at most 0.1% of values (ONNX Runtime's Resize differs from torch's by
  ~1e-4 levels, so a value at an exact .5 tie may round the other way);
- ``artifact``: the file itself (how many layers an int8 artifact really quantised).

A gate whose figure cannot be measured either fails (the artifact lacks what the gate needs) or, where the
table says so (accuracy without enough labelled images), reads "not gated: REASON", never "pass".
Noise images are a separate robustness row (the artifact must run on odd shapes and give finite
probabilities); they are never part of these figures.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

#: Numerical ties: a top-1 "disagreement" where the reference's best two classes are this close counts as
#: agreement (the two classes are the same answer to within float rounding).
TIE_TOLERANCE = 1e-6
#: Accuracy gates need this many labelled original images (rescaled copies never count).
MIN_LABELLED = 100
#: A class enters the per-class accuracy gate with at least this many labelled verification images.
MIN_CLASS_SAMPLES = 100

_OPS = {">=": operator.ge, "<=": operator.le}


@dataclass(frozen=True)
class Gate:
    """``row.figure OP limit``; ``exact_limit`` replaces ``limit`` for runtimes that run torch's kernels.
    ``optional`` is the reason shown when the figure cannot be measured and that is acceptable."""

    name: str
    row: str
    figure: str
    op: str
    limit: float
    meaning: str
    exact_limit: float | None = None
    optional: str | None = None

    def limit_for(self, torch_kernels: bool) -> float:
        return self.exact_limit if torch_kernels and self.exact_limit is not None else self.limit

    def to_dict(self) -> dict[str, Any]:
        out = {"gate": self.name, "row": self.row, "figure": self.figure, "op": self.op, "limit": self.limit}
        if self.exact_limit is not None:
            out["limit_torch_kernels"] = self.exact_limit
        if self.optional is not None:
            out["when_unmeasurable"] = f"not gated: {self.optional}"
        return {**out, "meaning": self.meaning}


def _pixel_gates() -> list[Gate]:
    return [
        Gate(
            "off_size.pixels_max_diff",
            "off_size",
            "pixels_max_diff",
            "<=",
            1.0,
            "network input vs the training data path, in uint8 levels (torch kernels: bit for bit)",
            exact_limit=0.0,
        ),
        Gate(
            "off_size.pixels_differing",
            "off_size",
            "pixels_differing",
            "<=",
            0.001,
            "share of network-input values that differ from the training data path at all",
            exact_limit=0.0,
        ),
    ]


def _float_gates(kind: str, agreement: float, prob_diff: float) -> list[Gate]:
    return [
        Gate(f"{kind}.top1_agreement", "model_size", "top1_agreement", ">=", agreement, "top-1 vs eager"),
        Gate(
            f"{kind}.max_abs_prob_diff",
            "model_size",
            "max_abs_prob_diff",
            "<=",
            prob_diff,
            "largest probability difference vs eager",
        ),
        *_pixel_gates(),
        Gate(
            f"{kind}.off_size.top1_agreement",
            "off_size",
            "top1_agreement",
            ">=",
            agreement,
            "top-1 vs the training data path",
        ),
    ]


#: The gates of each kind, in the order they are reported.
GATES: dict[str, list[Gate]] = {
    "fp32": _float_gates("fp32", 0.999, 1e-4),
    # fp16 keeps ~3 significant digits: probabilities move by up to ~1e-3 while the answer should not change.
    "fp16": _float_gates("fp16", 0.995, 1e-2),
    "int8": [
        Gate(
            "int8.quantized_layers",
            "artifact",
            "quantized_layers",
            ">=",
            1,
            "layers the artifact really computes in int8 (an all-float 'int8' file fails)",
        ),
        Gate("int8.top1_agreement", "model_size", "top1_agreement", ">=", 0.98, "top-1 vs eager"),
        # Its resize and rounding run in float: the same pixel gates as fp32. Its top-1 on off-size images
        # measures quantisation on harder inputs, not the resize: reported (figures.off_size), not gated.
        *_pixel_gates(),
        Gate(
            "int8.accuracy_drop",
            "model_size",
            "accuracy_drop",
            "<=",
            1.0,
            "accuracy points lost vs eager, labelled originals",
            optional=f"too few labelled samples (needs {MIN_LABELLED})",
        ),
        Gate(
            "int8.class_accuracy_drop",
            "model_size",
            "worst_class_accuracy_drop",
            "<=",
            3.0,
            f"accuracy points lost in the worst class with >= {MIN_CLASS_SAMPLES} labelled samples",
            optional=f"no class has {MIN_CLASS_SAMPLES} labelled samples",
        ),
    ],
}


def limit(kind: str, figure: str, row: str = "model_size") -> float | None:
    """The limit of ``kind``'s gate on ``row.figure`` (None: the kind has no such gate), for checks outside
    ``verify`` that hold an artifact to its own gates (browser tests, benchmarks/gpu_check.py)."""
    return next((g.limit for g in GATES[kind] if g.row == row and g.figure == figure), None)


def gate_table() -> dict[str, Any]:
    """The table as the manifest records it (``verification.gates``)."""
    return {
        "kinds": {kind: [gate.to_dict() for gate in gates] for kind, gates in GATES.items()},
        "tie_tolerance": TIE_TOLERANCE,
        "min_labelled_for_accuracy": MIN_LABELLED,
        "min_class_samples": MIN_CLASS_SAMPLES,
        "robustness": "noise images of odd shapes: the artifact runs and its probabilities are finite "
        "(figures reported, never part of the gates above)",
    }


def gates_markdown() -> str:
    """The table as docs/bundle.md shows it (a test keeps the two identical)."""
    lines = [
        "| kind | gate | images | passes when | torch kernels | without the data it needs |",
        "|---|---|---|---|---|---|",
    ]
    for kind, gates in GATES.items():
        for gate in gates:
            exact = "" if gate.exact_limit is None else f"{gate.figure} {gate.op} {gate.exact_limit:g}"
            lines.append(
                f"| {kind} | `{gate.name}`: {gate.meaning} | {gate.row.replace('_', ' ')} | "
                f"{gate.figure} {gate.op} {gate.limit:g} | {exact} | "
                f"{'not gated: ' + gate.optional if gate.optional else 'fails'} |"
            )
    return "\n".join(lines)


@dataclass
class GateResult:
    gate: str
    measured: float | None
    limit: float
    passed: bool | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "measured": self.measured,
            "limit": self.limit,
            "passed": self.passed,
            "note": self.note,
        }


def judge(kind: str, figures: dict[str, dict[str, Any]], torch_kernels: bool) -> list[GateResult]:
    """Every gate of ``kind`` applied to ``figures`` (``{row: {figure: value}}``)."""
    results = []
    for gate in GATES[kind]:
        limit = gate.limit_for(torch_kernels)
        value = figures.get(gate.row, {}).get(gate.figure)
        if value is None:
            why = figures.get(gate.row, {}).get(f"{gate.figure}_missing") or "not measured"
            passed, note = (
                (None, f"not gated: {gate.optional}") if gate.optional else (False, f"cannot check: {why}")
            )
        else:
            passed = bool(_OPS[gate.op](value, limit))  # NaN compares False: fails
            note = (
                "pass"
                if passed
                else f"{value:.6g} {'<' if gate.op == '>=' else '>'} {limit:g} (by {abs(value - limit):.3g})"
            )
        results.append(GateResult(gate.name, value, limit, passed, note))
    return results
