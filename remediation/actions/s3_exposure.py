"""S3 and IAM exposure actions (runbook 5.2): who can read a bucket, blocking public access,
and what a service role's policy allows."""

from __future__ import annotations

import json

from nexusops.integrations.aws import AwsClient
from nexusops.integrations.aws.iam import iam_name
from nexusops.integrations.aws.s3 import _bucket

from . import REMEDIATION, ActionSpec, Outcome, Param, Progress, register
from .cloud import _aws_missing

BUCKET = Param("bucket", "Bucket", max_length=63, default="nexus-uploads", check=_bucket)


def _exposure(params: dict, progress: Progress) -> Outcome:
    report = AwsClient.from_settings().s3_exposure(params["bucket"])
    verdict = "PUBLIC" if report["public"] else "not public"
    findings = report["findings"]
    summary = f"{params['bucket']}: {verdict}" + (f"; {'; '.join(findings)}" if findings else "")
    return Outcome(summary[:500], json.dumps(report, indent=2), report)


def _block_preview(params: dict) -> str:
    plan = AwsClient.from_settings().s3_block_public_access(params["bucket"], dry_run=True)
    before = plan["before"]
    now = "\n".join(f"  - {f}" for f in before["findings"]) or "  (no findings)"
    return (
        f"Turn on all four public access block settings of s3://{params['bucket']} "
        "(BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets). "
        "Anonymous reads stop at once, including any the product relies on; the ACL and "
        f"policy stay as they are for a later review. Now:\n{now}"
    )


def _block(params: dict, progress: Progress) -> Outcome:
    done = AwsClient.from_settings().s3_block_public_access(params["bucket"])
    after = done["after"]
    return Outcome(
        f"blocked public access to s3://{params['bucket']}: "
        + ("not public any more" if not after["public"] else "STILL PUBLIC, see the output"),
        json.dumps(done, indent=2),
        done,
    )


def _role_policy(params: dict, progress: Progress) -> Outcome:
    got = AwsClient.from_settings().iam_role_policy(params["role"], params["policy"])
    findings = got["findings"]
    summary = f"{got['role']}/{got['policy']} allows {', '.join(got['actions']) or 'nothing'}"
    if findings:
        summary += f"; broader than needed: {'; '.join(findings)}"
    return Outcome(summary[:500], json.dumps(got["document"], indent=2), got)


def _role(value: str) -> None:
    iam_name(value, "role", 64)


def _policy(value: str) -> None:
    iam_name(value, "policy", 128)


for spec in (
    ActionSpec(
        "s3.exposure", "Check a bucket's public exposure", "aws", _exposure, _aws_missing,
        params=(BUCKET,), standalone=True,
        description="bucket policy, ACL grants and public access block; flags public grants",
    ),
    ActionSpec(
        "s3.block_public_access", "Block public access to a bucket", "aws", _block,
        _aws_missing, params=(BUCKET,), permission=REMEDIATION, dangerous=True,
        preview=_block_preview, idempotent=True, standalone=True,
        description="aws s3api put-public-access-block with all four settings on",
    ),
    ActionSpec(
        "iam.role_policy", "Read a role's inline policy", "aws", _role_policy, _aws_missing,
        params=(
            Param("role", "Role", max_length=64, default="nexus-content-service-role",
                  check=_role),
            Param("policy", "Policy", max_length=128, default="S3Access", check=_policy),
        ),
        standalone=True,
        description="aws iam get-role-policy; flags wildcard actions and resources",
    ),
):  # fmt: skip
    register(spec)
