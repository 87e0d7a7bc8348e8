"""What people read: scorecards, the workbook, explain, labels, the headless browser."""
