"""Runtime helpers every service shares: Kafka publishing and reliable consuming."""
