"""One-off scripts run by hand: `make bench` and the provider-schema regeneration."""
