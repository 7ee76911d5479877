"""IAM (runbook 5.2): a role's inline policy, as ``aws iam get-role-policy`` shows it, with the
statements that grant more than a service needs."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from .connection import Connection
from .errors import InvalidArgument

_NAME = re.compile(r"[\w+=,.@-]{1,128}")


def iam_name(value: str, what: str, longest: int) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value) or len(value) > longest:
        raise InvalidArgument(
            f"{value!r} is not an IAM {what} name (1 to {longest} letters, digits or +=,.@_-)"
        )
    return value


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def broad_statements(document: dict[str, Any]) -> list[str]:
    """Allow statements with a wildcard action (``*``, ``s3:*``) or on every resource."""
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    found = []
    for s in statements:
        if not isinstance(s, dict) or s.get("Effect") != "Allow":
            continue
        actions = _listed(s.get("Action"))
        resources = _listed(s.get("Resource"))
        wild = [a for a in actions if a == "*" or a.endswith(":*")]
        sid = s.get("Sid") or "(no Sid)"
        if wild:
            found.append(f"statement {sid} allows every action of {', '.join(wild)}")
        if "*" in resources:
            found.append(f'statement {sid} applies to every resource (Resource "*")')
    return found


class IamOperations(Connection):
    def iam_role_policy(self, role: str, policy: str) -> dict[str, Any]:
        iam_name(role, "role", 64)
        iam_name(policy, "policy", 128)
        with self._vendor_errors(f"reading policy {policy} of role {role}"):
            got = self._iam.get_role_policy(RoleName=role, PolicyName=policy)
        document = got["PolicyDocument"]
        if isinstance(document, str):  # the API sends it URL-encoded; boto3 usually decodes
            document = json.loads(unquote(document))
        statements = document.get("Statement") or []
        if isinstance(statements, dict):
            statements = [statements]
        return {
            "role": role,
            "policy": policy,
            "document": document,
            "actions": sorted({a for s in statements for a in _listed(s.get("Action"))}),
            "findings": broad_statements(document),
        }
