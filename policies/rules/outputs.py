"""Stack outputs: no secret-looking value in plain text (offline only).

The pack cannot run this: pulumi_policy hands stack policies the root stack's outputs with
secrets already unwrapped, so a secret output and a plaintext one look the same there. The
offline evaluator sees which outputs the program marked secret and runs it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from policies.core import Finding, OutputsRule, violation

# Names that say "secret", and values that carry a credential whatever their name.
SECRET_NAME = re.compile(
    r"(password|passwd|secret|token|api[_-]?key|access[_-]?key|account[_-]?key|"
    r"connection[_-]?string|sas|credential|private[_-]?key|key$)",
    re.IGNORECASE,
)
SECRET_VALUE = re.compile(
    r"(AccountKey=|SharedAccessKey=|SharedAccessSignature|[?&]sig=|Password=|Pwd=|"
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.)",
    re.IGNORECASE,
)
# Names that look secret but hold identifiers (Key Vault URIs, secret *names*, key ids).
HARMLESS_NAME = re.compile(r"(uri|url|name|id|instrumentationkey)$", re.IGNORECASE)


def plaintext_secrets(outputs: Mapping[str, Any], secret_outputs: Collection[str]) -> list[Finding]:
    """Every non-secret output whose name or value looks like a credential."""
    findings: list[Finding] = []
    for name, value in sorted(outputs.items()):
        if name in secret_outputs:
            continue
        for path, leaf in _leaves(name, value):
            if isinstance(leaf, str) and SECRET_VALUE.search(leaf):
                findings.append(
                    violation(
                        f"stack output {path} holds a credential in plain text; "
                        "wrap it in pulumi.Output.secret or do not export it"
                    )
                )
            elif (
                SECRET_NAME.search(path.rsplit(".", 1)[-1])
                and not HARMLESS_NAME.search(path)
                and leaf not in (None, "")
            ):
                findings.append(
                    violation(
                        f"stack output {path} is named like a secret but is not marked "
                        "secret; wrap it in pulumi.Output.secret or do not export it"
                    )
                )
    return findings


def _leaves(path: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, Mapping):
        return [leaf for key, item in value.items() for leaf in _leaves(f"{path}.{key}", item)]
    if isinstance(value, list | tuple):
        return [leaf for i, item in enumerate(value) for leaf in _leaves(f"{path}[{i}]", item)]
    return [(path, value)]


RULES = (
    OutputsRule(
        name="no-plaintext-secret-outputs",
        description="Stack outputs hold no secret-looking value in plain text (offline "
        "evaluator only).",
        resource_types=(),
        control="MCSB IM-8",
        check=plaintext_secrets,
    ),
)
