"""Plumbing shared by every Chorale service: settings, logging, metrics, MongoDB, Kafka,
the outbox relay, the reliable consumer, HTTP app factory and token verification."""
