"""ETL layer: staging blob storage with its lifecycle and grants, and Data Factory where flagged."""

from infra.etl.component import DATA_FACTORY_CONTAINERS, Etl, EtlArgs
from infra.etl.storage import CONTAINERS, Container, lifecycle_rules, sku_name

__all__ = [
    "CONTAINERS",
    "DATA_FACTORY_CONTAINERS",
    "Container",
    "Etl",
    "EtlArgs",
    "lifecycle_rules",
    "sku_name",
]
