"""An example third-party haliax plugin."""
