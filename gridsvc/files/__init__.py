"""Files people hand to gridsvc: uploads typed by content, their retention, and spreadsheet-injection defence."""
