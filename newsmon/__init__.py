"""newsmon: news monitoring and multilingual aggregation crawler."""

__version__ = "0.1.0"
