"""S3 exposure (runbook 5.2): who can read a bucket, and blocking public access.

A bucket is public when its ACL grants to everyone (``AllUsers``) or to every AWS account
(``AuthenticatedUsers``), or when its policy allows ``Principal: "*"`` without a condition,
and its public access block does not stop that. This reads all three and says which it is.
"""

from __future__ import annotations

import json
from typing import Any

from nexusops.integrations.errors import VendorRejected

from .connection import Connection
from .s3 import NOT_CONFIGURED, _bucket

PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "everyone (AllUsers)",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "any AWS account "
    "(AuthenticatedUsers)",
}
BLOCK_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        return aws == "*" or isinstance(aws, list) and "*" in aws
    return False


def public_statements(policy: Any) -> list[dict[str, Any]]:
    """The policy's Allow statements for anyone (``Principal: "*"``) with no Condition."""
    if not isinstance(policy, dict):
        return []
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    return [
        s
        for s in statements
        if isinstance(s, dict)
        and s.get("Effect") == "Allow"
        and _everyone(s.get("Principal"))
        and not s.get("Condition")
    ]


class S3ExposureOperations(Connection):
    def _optional(self, what: str, bucket: str, call: Any, missing: str) -> Any:
        try:
            with self._vendor_errors(f"reading the {what} of bucket {bucket}"):
                return call(Bucket=bucket)
        except VendorRejected as exc:
            if exc.code != missing:
                raise
            return None

    def s3_exposure(self, bucket: str) -> dict[str, Any]:
        """Policy, ACL grants and public access block of a bucket, and what is public."""
        _bucket(bucket)
        with self._vendor_errors(f"reading the ACL of bucket {bucket}"):
            acl = self._s3.get_bucket_acl(Bucket=bucket)
        got = self._optional("policy", bucket, self._s3.get_bucket_policy, "NoSuchBucketPolicy")
        policy = json.loads(got["Policy"]) if got else None
        got = self._optional(
            "public access block", bucket, self._s3.get_public_access_block,
            "NoSuchPublicAccessBlockConfiguration",
        )  # fmt: skip
        block = got["PublicAccessBlockConfiguration"] if got else None
        status = self._optional(
            "policy status", bucket, self._s3.get_bucket_policy_status, "NoSuchBucketPolicy"
        )
        grants = [
            {
                "grantee": g["Grantee"].get("URI")
                or g["Grantee"].get("DisplayName")
                or g["Grantee"].get("ID", ""),
                "permission": g.get("Permission", ""),
            }
            for g in acl.get("Grants", [])
        ]
        block = {flag: bool(block.get(flag)) for flag in BLOCK_FLAGS} if block else None
        ignore_acls = bool(block and block["IgnorePublicAcls"])
        restrict = bool(block and block["RestrictPublicBuckets"])
        findings, public = [], False
        for g in grants:
            if g["grantee"] in PUBLIC_GROUPS:
                public = public or not ignore_acls
                tail = " (ignored: IgnorePublicAcls is on)" if ignore_acls else ""
                findings.append(
                    f"ACL grants {g['permission']} to {PUBLIC_GROUPS[g['grantee']]}{tail}"
                )
        for s in public_statements(policy):
            public = public or not restrict
            tail = " (restricted: RestrictPublicBuckets is on)" if restrict else ""
            findings.append(
                f"policy statement {s.get('Sid') or '(no Sid)'} allows {s.get('Action')} to "
                f'anyone (Principal "*") without a condition{tail}'
            )
        if block is None:
            findings.append("no public access block on the bucket")
        else:
            findings += [f"public access block: {f} is off" for f in BLOCK_FLAGS if not block[f]]
        return {
            "bucket": bucket,
            "owner": acl.get("Owner", {}).get("ID", ""),
            "grants": grants,
            "policy": policy if policy is not None else NOT_CONFIGURED,
            "policy_is_public": bool(status and status["PolicyStatus"].get("IsPublic")),
            "public_access_block": block if block is not None else NOT_CONFIGURED,
            "findings": findings,
            "public": public,
        }

    def s3_block_public_access(self, bucket: str, *, dry_run: bool = False) -> dict[str, Any]:
        """``put-public-access-block`` with all four settings on (runbook 5.2)."""
        before = self.s3_exposure(bucket)
        plan = {"bucket": bucket, "before": before, "dry_run": dry_run}
        if dry_run:
            return plan
        with self._vendor_errors(f"blocking public access to bucket {bucket}"):
            self._s3.put_public_access_block(
                Bucket=bucket,
                PublicAccessBlockConfiguration={flag: True for flag in BLOCK_FLAGS},
            )
        return {**plan, "after": self.s3_exposure(bucket)}
