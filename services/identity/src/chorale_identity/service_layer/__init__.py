"""Use cases of the identity service: they take their collaborators (repositories, clock,
hasher, key ring, event factory) through ``IdentityContext`` and call the pure domain."""
