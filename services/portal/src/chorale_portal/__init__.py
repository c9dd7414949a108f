"""Chorale portal: the web application people use (server-rendered, French)."""
