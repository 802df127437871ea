"""Webhooks (issue 16): admins subscribe URLs to event types; the `webhooks` job delivers the
outbox's events to them, signed as the Standard Webhooks spec says, with retries, a delivery
log and an SSRF guard. docs/integrations.md, "Webhooks"."""
