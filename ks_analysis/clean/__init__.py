"""Clean: raw reader rows -> the tidy indicator table, rejected rows with reasons, and a manifest."""
