"""One screen per task of the workday."""
