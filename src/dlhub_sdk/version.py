"""Version of the DLHub SDK and of the metadata format it writes."""

__version__ = "0.1.0"
