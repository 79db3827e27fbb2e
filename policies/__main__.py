"""Serves the pack to the Pulumi CLI: `pulumi preview --policy-pack policies`.

The CLI runs this file with cwd policies/ and policies/ first on sys.path, so the project
root is added to import the `policies` package (and nothing else of the project).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policies.config import environment_from_process
from policies.pack import FALLBACK_ENVIRONMENT, build_policies

environment = environment_from_process()
if environment is None:
    # stdout carries the port handshake; say it on stderr.
    print(
        "policy pack: stack environment unknown (not dev, qa, staging or prod); "
        f"using each resource's environment tag, else {FALLBACK_ENVIRONMENT}",
        file=sys.stderr,
    )

PolicyPack(
    name="azure-platform",
    description="Security, reliability and naming guardrails of the Azure platform "
    f"(environment: {environment or 'from resource tags'}).",
    enforcement_level=EnforcementLevel.MANDATORY
    if (environment or FALLBACK_ENVIRONMENT) in ("staging", "prod")
    else EnforcementLevel.ADVISORY,
    policies=build_policies(environment),
)
