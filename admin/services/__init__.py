"""Use cases that change the database. Views, REST API, CLI and importers all call these."""
