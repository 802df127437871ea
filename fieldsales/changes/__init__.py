"""Change tracking, below every domain: the sync clock that stamps each change, the columns a
synced row carries, and the record of who gained or lost sight of a row.

Domains write through it; the phone protocol (fieldsales.sync) reads it. It knows no domain.
"""
