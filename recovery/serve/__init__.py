"""The living plan: `recovery serve`, a clinic's plans kept in a database and served as calendar feeds.

- `store`: the database (SQLAlchemy 2: SQLite by default, PostgreSQL at scale), its tables and
  the clinic's actions on them (make a plan, record a date, rotate a link), each one revision
  with who, when and what, and an audit entry. Secrets are kept only as hashes.
- `migrations`: the database's schema history (Alembic), applied on start and by
  `recovery db upgrade`.
- `app`: the ASGI application (Starlette): the clinician's pages, the patient's page, the feed
  and the JSON API. It only reads requests and writes responses; `store` does the work.

Installed with `pip install '.[serve]'`; nothing else in the package imports it, except this
module's default database, which the command line shows in its help without loading the server.
"""

#: The database `recovery serve` and its commands use unless told (`--database`, RECOVERY_DATABASE).
DEFAULT_DATABASE = "sqlite:///recovery.db"
