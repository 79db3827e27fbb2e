"""Registry layer: the environment's container registry and the image each service runs."""

from infra.registry.component import ImageRef, Registry, RegistryArgs, image_refs

__all__ = ["ImageRef", "Registry", "RegistryArgs", "image_refs"]
