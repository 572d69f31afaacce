pytest_plugins = ["peerloop_cli.testing.plugin"]
