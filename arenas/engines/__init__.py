"""Execution shared by tools and verifiers: an arena's tools and its verifier both run untrusted
input (an agent's SQL, code, browser actions), so the sandboxes live here, once, and verifiers
import them without importing an arena.

- :mod:`~arenas.engines.sql`: read-only, time- and size-bounded SQLite connections, SQL splitting
  and identifier quoting;
- :mod:`~arenas.engines.sql_schema`: the one schema reader of SQLite files;
- :mod:`~arenas.engines.services`: external processes (servers) started on a free loopback port,
  health-checked, restarted and stopped by PID;
- :mod:`~arenas.engines.cache`: the data cache (``$ARENAS_HOME``) with checksummed builds.
"""
