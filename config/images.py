"""Image digests from stack config (`platform:images`), promoted by CI from dev's registry."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

# The four services built from services/<name>/Dockerfile and deployed as Container Apps.
ServiceName = Literal["users", "orders", "products", "payments"]
SERVICE_NAMES: tuple[ServiceName, ...] = ("users", "orders", "products", "payments")

# An OCI content digest: images are deployed by digest, never by a mutable tag.
# https://learn.microsoft.com/azure/container-registry/container-registry-image-tag-version
ImageDigest = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
ImageDigests = dict[ServiceName, ImageDigest]

# What a service runs before CI has pushed its first image: Microsoft's public quickstart
# image, pulled anonymously from MCR (the "create with a public image, then switch to the
# private one" path of https://learn.microsoft.com/azure/container-apps/managed-identity-image-pull).
# It is the one image deployed by tag, not digest: its digest is not known to this repository,
# and it is replaced by `platform:images.<service>` on the next `pulumi up`. It listens on
# port 80 and has no /health routes, so the bootstrap revision runs without probes.
BOOTSTRAP_IMAGE = "mcr.microsoft.com/k8se/quickstart:latest"
BOOTSTRAP_PORT = 80
