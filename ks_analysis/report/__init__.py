"""Report: the report model of one period (pure) and its Swedish HTML sections and charts."""
