"""What operators watch: the service's metrics for Prometheus, and whether it is ready."""
