"""Test support: real infrastructure endpoints, per-test namespaces, in-process servers."""
