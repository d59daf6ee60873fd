"""The execution output stays under Step Functions' 256 KiB state limit for any allowed k (<= 20)."""

from __future__ import annotations

import json

from smx_gather.payload import KEEP_FIELDS, LIMIT_BYTES, fit_to_limit, payload_size

RUN = "crossvalidator-demo-20261122-120000"


def split(i, *, transitions=3, hyperparameters=5, metrics=3, channels=2):
    return {
        "fold_index": i, "TrainingJobName": f"{RUN}-fold{i}", "TrainingJobStatus": "Completed",
        "TrainingTimeInSeconds": 100, "BillableTimeInSeconds": 50,
        "SecondaryStatusTransitions": [{"Status": "Training", "StatusMessage": "m" * 200} for _ in range(transitions)],
        "FinalMetricDataList": [{"MetricName": f"validation:metric_{m}", "Value": 0.5} for m in range(metrics)],
        "HyperParameters": {f"hp_{h}": "v" * 250 for h in range(hyperparameters)},
        "InputDataConfig": [{"ChannelName": f"c{c}", "DataSource": {"S3DataSource": {"S3Uri": "s3://" + "p" * 1000}}}
                            for c in range(channels)],
        "AlgorithmSpecification": {"TrainingImage": "i" * 500},
    }


def output(splits):
    return {"job_config": {"run_id": RUN}, "crossvalidation": {"n_splits": len(splits)}, "training": {},
            "splits": splits, "summary": {"failed_fold_count": 0, "metrics": {"validation:metric_0": {"mean": 0.5}},
                                           "trimmed_fields": []}}


def test_given_a_small_output_when_fitted_then_nothing_is_trimmed():
    original = output([split(i) for i in range(5)])

    fitted = fit_to_limit(original)

    assert fitted == original
    assert fitted["summary"]["trimmed_fields"] == []


def test_given_twenty_folds_with_long_status_histories_when_fitted_then_only_the_histories_go():
    original = output([split(i, transitions=80) for i in range(20)])
    assert payload_size(original) > LIMIT_BYTES

    fitted = fit_to_limit(original)

    assert payload_size(fitted) <= LIMIT_BYTES
    assert fitted["summary"]["trimmed_fields"] == ["SecondaryStatusTransitions"]
    assert all("HyperParameters" in s and "SecondaryStatusTransitions" not in s for s in fitted["splits"])
    # the caller's copy (what summary.json is written from) keeps everything
    assert len(original["splits"][0]["SecondaryStatusTransitions"]) == 80


def test_given_twenty_big_descriptions_when_fitted_then_fields_go_in_the_documented_order_until_it_fits():
    original = output([split(i, transitions=40, metrics=50, hyperparameters=40, channels=4) for i in range(20)])

    fitted = fit_to_limit(original)

    assert payload_size(fitted) <= LIMIT_BYTES
    assert fitted["summary"]["trimmed_fields"] == ["SecondaryStatusTransitions", "FinalMetricDataList", "HyperParameters"]
    assert all("InputDataConfig" in s for s in fitted["splits"])
    assert fitted["summary"]["metrics"] == original["summary"]["metrics"]


def test_given_descriptions_too_big_even_without_the_four_fields_when_fitted_then_identity_and_cost_fields_remain():
    bloated = [dict(split(i), AlgorithmSpecification={"TrainingImage": "i" * 20_000}) for i in range(20)]

    fitted = fit_to_limit(output(bloated))

    assert payload_size(fitted) <= LIMIT_BYTES
    assert fitted["summary"]["trimmed_fields"][:4] == ["SecondaryStatusTransitions", "FinalMetricDataList",
                                                       "HyperParameters", "InputDataConfig"]
    assert "AlgorithmSpecification" in fitted["summary"]["trimmed_fields"]
    assert set(fitted["splits"][0]) <= KEEP_FIELDS
    assert fitted["splits"][7]["TrainingJobName"] == f"{RUN}-fold7"
    json.dumps(fitted)


def test_a_confusion_matrix_of_many_classes_goes_before_the_splits():
    # GIVEN out-of-fold predictions over 300 classes: a matrix of 90,000 counts
    output = {"splits": [{"fold_index": 0, "TrainingJobName": "j", "TrainingJobStatus": "Completed",
                          "FinalMetricDataList": [{"MetricName": "validation:accuracy", "Value": 0.5}]}],
              "summary": {"out_of_fold": {"metrics": {"accuracy": 0.5},
                                          "confusion_matrix": {"labels": [str(i) for i in range(300)],
                                                               "matrix": [[1000] * 300 for _ in range(300)]}}}}
    # WHEN the output is fitted to the state limit
    fitted = fit_to_limit(output)
    # THEN the matrix is dropped first (summary.json keeps it); the labels, the metrics and the jobs' detail stay
    assert fitted["summary"]["trimmed_fields"] == ["out_of_fold.confusion_matrix.matrix"]
    assert fitted["splits"][0]["FinalMetricDataList"]
    assert fitted["summary"]["out_of_fold"]["metrics"] == {"accuracy": 0.5}
    assert len(fitted["summary"]["out_of_fold"]["confusion_matrix"]["labels"]) == 300 and fitted["splits"]
