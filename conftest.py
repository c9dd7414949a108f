pytest_plugins = ["chorale_runtime.testing.plugin"]
