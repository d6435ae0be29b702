"""Exports Shopware 6 orders to the TopM SAN6 ERP."""

__version__ = "0.1.0"
