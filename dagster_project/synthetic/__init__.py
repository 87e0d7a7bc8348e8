"""The synthetic Jiangsu delivery generator (clean and --dirty)."""
