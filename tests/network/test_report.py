"""The training report: its saved form leaves out what does not apply and reads back."""

import pytest

from mips.network.report import TrainingReport


def test_the_saved_form_leaves_out_fields_that_do_not_apply_and_reads_back() -> None:
    report = TrainingReport(
        family="linear",
        exact=True,
        steps=0,
        sequence_accuracy=1.0,
        heldout_accuracy=1.0,
        place_in_pack=0,
        seconds=0.5,
    )
    saved = report.to_dict()
    assert "pack_seed" not in saved and "final" not in saved and saved["place_in_pack"] == 0
    assert TrainingReport.from_dict(saved) == report
    assert TrainingReport.from_dict({"zero_weights": 3}) is None  # not trained by the search


def test_a_report_that_contradicts_itself_is_refused() -> None:
    with pytest.raises(ValueError, match="final"):
        TrainingReport(
            family="scale-up",
            exact=True,
            steps=10,
            sequence_accuracy=1.0,
            heldout_accuracy=1.0,
            final=False,
        )
    with pytest.raises(ValueError, match="accuracies"):
        TrainingReport(
            family="relu", exact=False, steps=10, sequence_accuracy=1.5, heldout_accuracy=0.5
        )
