"""The web console: server-rendered pages for managers, admins, procurement and reps."""
