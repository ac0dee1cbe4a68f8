"""The spreadsheets package's Alembic revisions (branch `spreadsheets`): its imports table."""
