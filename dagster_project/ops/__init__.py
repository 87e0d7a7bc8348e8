"""Running the job: the in-process runner, the schedule and sensor, the benchmark."""
