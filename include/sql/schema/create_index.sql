-- One single-column index; the caller creates it only if it does not exist yet.
CREATE INDEX {{ index }} ON {{ table }} ({{ column }})
