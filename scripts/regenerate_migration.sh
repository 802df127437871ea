#!/usr/bin/env bash
# Regenerates the initial migration from the models while the project has not shipped a
# release (no production database to upgrade yet). After the first release, add migrations
# with `flask --app wsgi db migrate -m ...` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f migrations/versions/*.py
tmp=$(mktemp -d)
export DATABASE_URL="sqlite:///$tmp/gen.db" FIELDSALES_SCHEDULER=off
.venv/bin/flask --app wsgi db migrate -m "initial schema" >/dev/null
file=$(ls migrations/versions/*initial_schema.py)
# The sync clock's one row (see fieldsales/changes/clock.py) is data, not schema: seed it here.
python3 - "$file" <<'PY'
import sys, re
path = sys.argv[1]
text = open(path).read()
marker = "    # ### end Alembic commands ###"
seed = ("    op.execute(\"INSERT INTO sync_clock (id, last_stamp) VALUES (1, 0)\")\n")
first = text.index(marker)
text = text[:first] + seed + text[first:]
open(path, "w").write(text)
PY
rm -rf "$tmp"
echo "regenerated $file"
