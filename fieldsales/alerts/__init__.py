"""Manager alerts (issue 16): rules per team over the outbox's events, a feed managers
acknowledge, and e-mail through SMTP (docs/integrations.md, "Alerts")."""
