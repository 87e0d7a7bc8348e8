"""The quality gate: Great Expectations suites over the marts, the frames they read, the quality report."""
