"""lightship: train with Lightning, export once, verify everywhere."""
__version__ = "0.1.0"
