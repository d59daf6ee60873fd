"""S3 URIs and the encryption settings every object SMX-Validator writes carries. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str) -> "S3Uri":
        if not uri.startswith("s3://"):
            raise ValueError(f"not an S3 URI: {uri!r}")
        bucket, _, key = uri[len("s3://"):].partition("/")
        if not bucket:
            raise ValueError(f"S3 URI has no bucket: {uri!r}")
        return cls(bucket, key)

    @property
    def folder(self) -> str:
        """The key as a folder prefix: "" or ending in "/"."""
        return self.key if not self.key or self.key.endswith("/") else self.key + "/"

    def child(self, relative: str) -> "S3Uri":
        """The URI of ``relative`` under this one, treating this key as a folder."""
        return S3Uri(self.bucket, self.folder + relative)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def encryption_args(kms_key_id: str | None) -> dict[str, str]:
    """PutObject/CreateMultipartUpload arguments: SSE-KMS with the deployer's key, else SSE-S3."""
    if kms_key_id:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
    return {"ServerSideEncryption": "AES256"}
