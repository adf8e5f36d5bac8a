"""`rtinfer monitor`: reports rendered for people (tables, plots)."""
