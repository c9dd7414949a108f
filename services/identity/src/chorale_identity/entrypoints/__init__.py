"""HTTP routers, the Kafka subscription, and the access-token check of identity's own API."""
