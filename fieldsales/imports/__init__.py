"""Bulk upserts from an ERP, a WMS or a CRM: products, customers and deliveries (issue 16)."""
