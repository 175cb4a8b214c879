"""Table/SQL reasoning over real relational databases (Chinook, NYC flights, Lahman baseball)."""
