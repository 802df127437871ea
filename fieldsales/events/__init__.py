"""The transactional outbox: events written in the same transaction as the change that causes
them (issue 16), so a rollback or a crash before the commit leaves none, and a commit always
leaves its events. Webhooks and alerts read them from `events`."""
