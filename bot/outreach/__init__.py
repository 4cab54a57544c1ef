"""Messages Rahnuma sends first: case updates, licence alerts, departure journeys, check-ins."""
