"""Running the job over time: the nightly job, schedule and sensor, and the benchmark."""
