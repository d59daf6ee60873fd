"""No secrets, credentials or AWS account IDs in the repository.

Every file git tracks (and every new file it would track: untracked but not ignored) is scanned
for AWS access key IDs, secret access keys, private keys, and 12-digit AWS account IDs. The only
account IDs allowed are listed below, each with its reason: the public registries of AWS's
built-in algorithm images, and the placeholder accounts of moto and AWS's documentation.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from smx_split.builtin_images import registries

REPO = Path(__file__).resolve().parents[2]

ALLOWED_ACCOUNT_IDS = {
    # AWS-owned ECR registries of the SageMaker built-in algorithm images (what TrainingImage names);
    # AWS publishes them per region (SageMaker "Docker Registry Paths", sagemaker-python-sdk image_uris).
    "382416733822": "us-east-1 registry of the built-in algorithms linear-learner, knn, kmeans, pca, ...",
    "811284229777": "us-east-1 registry of the first-generation built-ins: image-classification, blazingtext, ...",
    "683313688378": "us-east-1 registry of sagemaker-xgboost (and the framework containers)",
    "685385470294": "eu-west-1 registry of the first-generation built-ins (the original application's image-classification example)",
    # Placeholders that are nobody's account.
    "123456789012": "moto's fake default account (the offline engine and tests), also AWS's documentation example",
    "111122223333": "AWS's documentation example account (used in test ARNs)",
}
# Every other region's registry of the built-in algorithms: AWS's published list, held with its
# source in functions/split/smx_split/builtin_registries.json (how an image is told built-in).
AWS_ALGORITHM_REGISTRIES = {account for repositories in registries().values()
                            for regions in repositories.values() for account in regions.values()}

ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])")
SECRET_ACCESS_KEY = re.compile(
    r"(?i)(?:aws_?secret_?access_?key|secretaccesskey)[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])")
PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# 12 digits standing alone (not inside a longer number, nor a decimal's fraction or integer part).
ACCOUNT_ID = re.compile(r"(?<![\d.])\d{12}(?!\d)(?!\.\d)")


def repository_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    return [REPO / name for name in listed if name and (REPO / name).is_file()]


def text_of(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None  # binary (the bundled PNG digits)
    return data.decode("utf-8", errors="replace")


def findings(text: str) -> list[str]:
    found = [f"AWS access key ID {match}" for match in ACCESS_KEY_ID.findall(text)]
    found += ["AWS secret access key" for _ in SECRET_ACCESS_KEY.findall(text)]
    found += ["private key" for _ in PRIVATE_KEY.findall(text)]
    found += [f"account ID {match}" for match in ACCOUNT_ID.findall(UUID.sub("", text))
              if match not in ALLOWED_ACCOUNT_IDS and match not in AWS_ALGORITHM_REGISTRIES]
    return found


def test_no_file_in_the_repository_holds_a_secret_or_an_unlisted_account_id():
    # GIVEN every file the repository tracks or would track
    files = repository_files()
    assert len(files) > 50, "git ls-files found too little: is this the repository root?"
    # WHEN each is scanned
    problems = {str(path.relative_to(REPO)): found for path in files
                if (text := text_of(path)) is not None and (found := findings(text))}
    # THEN nothing is found
    assert problems == {}


@pytest.mark.parametrize("sample, expected", [
    # Built at run time, so that this file holds no such string itself.
    ("key = " + "AKIA" + "Q" * 16, "AWS access key ID"),
    ("AWS_SESSION=" + "ASIA" + "7" * 16 + "\n", "AWS access key ID"),
    ("aws_secret_access_key = " + "wJalrXUtnFEMI/K7MDENG/" + "b" * 18, "AWS secret access key"),
    ("-----BEGIN RSA " + "PRIVATE KEY-----\nMIIE...", "private key"),
    ("-----BEGIN OPENSSH " + "PRIVATE KEY-----", "private key"),
    ("arn:aws:iam::" + "4" * 6 + "7" * 6 + ":role/x", "account ID"),
    ("'" + "9" * 12 + ".dkr.ecr.us-east-1.amazonaws.com/linear-learner:1'", "account ID"),
])
def test_the_scan_finds_what_it_looks_for(sample, expected):
    assert any(finding.startswith(expected) for finding in findings(sample)), findings(sample)


@pytest.mark.parametrize("sample", [
    "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1",  # a listed registry
    "aws_request_id = '00000000-0000-0000-0000-" + "0" * 12 + "'",  # a UUID
    "0.123456789012, 1234567890123",  # a decimal fraction, a 13-digit number
    "AWS_SECRET_ACCESS_KEY=testing",  # moto's fake credentials
])
def test_the_scan_ignores_what_is_not_a_secret(sample):
    assert findings(sample) == []


def test_every_allowed_account_id_says_why():
    assert all(len(reason) > 20 for reason in ALLOWED_ACCOUNT_IDS.values())
