"""``report.json`` (for machines and CI gates) and ``report.md`` (for people) from computed metrics."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from lightship.evaluation.metrics import ClassificationMetrics, most_confused
from lightship.files import write_json, write_text

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
CONFUSION_PNG = "confusion_matrix.png"
RELIABILITY_PNG = "reliability.png"
MISTAKES_PNG = "confident_mistakes.png"

#: Classes listed as best and worst in the summary, and confused pairs listed.
SHOWN_CLASSES = 3
SHOWN_PAIRS = 5


def report_dict(metrics: ClassificationMetrics, class_names: list[str], **context: Any) -> dict[str, Any]:
    """The JSON report: the metrics, the most confused pairs, and ``context`` (split, tta, checkpoint...)."""
    data = asdict(metrics)
    data["most_confused"] = [
        {"true": true, "predicted": pred, "count": count}
        for true, pred, count in most_confused(metrics.confusion_matrix, class_names, SHOWN_PAIRS)
    ]
    return {
        **context,
        "class_names": list(class_names),
        **data,
        "images": {
            "confusion_matrix": CONFUSION_PNG,
            "reliability": RELIABILITY_PNG,
            "confident_mistakes": MISTAKES_PNG,
        },
    }


def write_report_json(report: dict[str, Any], out: Path) -> None:
    write_json(out / REPORT_JSON, report)


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"


def _calibration_sentence(report: dict[str, Any]) -> str:
    """Say in words which way the model is miscalibrated, the thing a reader of the ECE wants to know,
    and what the temperature inside its scores changed."""
    gap = report["mean_confidence"] - report["top1"]
    ece = report["ece"]
    if ece < 0.02:
        verdict = "well calibrated"
    elif gap > 0:
        verdict = "over-confident (its confidence is higher than its accuracy)"
    else:
        verdict = "under-confident (its accuracy is higher than its confidence)"
    bins = len(report["calibration_bins"])
    cal = report["calibration"]
    if cal.get("fitted"):
        how = (
            f"The scores are divided by a temperature of {cal['temperature']:.3g} fitted on the validation "
            f"split ({cal.get('images', '?')} images); without it the calibration error here would be "
            f"{cal['ece_before']:.3f}."
        )
    else:
        how = f"No temperature is applied ({cal.get('reason', 'not fitted')})."
    return (
        f"Expected calibration error is {ece:.3f} over {bins} bins: mean confidence "
        f"{_pct(report['mean_confidence'])} against top-1 accuracy {_pct(report['top1'])}, "
        f"so the scores are {verdict}. {how}"
    )


def _subject(report: dict[str, Any]) -> str:
    if "bundle" in report:
        artifact = report["artifact"]
        line = f"Bundle `{report['bundle']}`, artifact {artifact['format']} on {artifact['runtime']}"
        return line + (f" (UNVERIFIED: {artifact['unverified']})" if artifact.get("unverified") else "")
    return f"Checkpoint `{report['checkpoint']}`"


def render_markdown(report: dict[str, Any]) -> str:
    """A one-page summary that embeds the pictures and names the classes and pairs to look at."""
    per_class = report["per_class"]
    present = [name for name in report["class_names"] if per_class[name]["support"] > 0]
    ranked = sorted(present, key=lambda name: (per_class[name]["f1"], name))
    top5 = "n/a (fewer than 5 classes)" if report["top5"] is None else _pct(report["top5"])
    lines = [
        f"# Evaluation report: {report['split']} split",
        "",
        f"{_subject(report)}, {report['num_images']} images, "
        f"{len(report['class_names'])} classes, test-time augmentation level {report['tta']}.",
        "",
        "| metric | value |",
        "|---|---|",
        f"| top-1 accuracy | {_pct(report['top1'])} |",
        f"| top-5 accuracy | {top5} |",
        f"| expected calibration error | {report['ece']:.4f} |",
        f"| ... without the temperature | {report['calibration']['ece_before']:.4f} |",
        "",
        "## Classes",
        "",
        "Best by F1: "
        + ", ".join(f"{n} ({per_class[n]['f1']:.3f})" for n in reversed(ranked[-SHOWN_CLASSES:]))
        + ".",
        "",
        "Worst by F1: " + ", ".join(f"{n} ({per_class[n]['f1']:.3f})" for n in ranked[:SHOWN_CLASSES]) + ".",
        "",
    ]
    absent = [name for name in report["class_names"] if per_class[name]["support"] == 0]
    if absent:
        lines += [f"Not present in this split (no recall to measure): {', '.join(absent)}.", ""]
    lines += ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    lines += [
        f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |"
        for name, s in per_class.items()
    ]
    lines += ["", "## Confusions", ""]
    if report["most_confused"]:
        lines.append("Most confused pairs (true → predicted):")
        lines.append("")
        lines += [f"- {p['true']} → {p['predicted']}: {p['count']} images" for p in report["most_confused"]]
    else:
        lines.append("No mistakes: every image was classified correctly.")
    lines += [
        "",
        f"![Confusion matrix]({CONFUSION_PNG})",
        "",
        "## Calibration",
        "",
        _calibration_sentence(report),
        "",
        f"![Reliability diagram]({RELIABILITY_PNG})",
        "",
        "## Most confident mistakes",
        "",
        "The wrong predictions the model was surest about: label noise, ambiguous images or a shortcut.",
        "",
        f"![Most confident mistakes]({MISTAKES_PNG})",
        "",
    ]
    return "\n".join(lines)


def write_markdown(report: dict[str, Any], out: Path) -> None:
    write_text(out / REPORT_MD, render_markdown(report))
