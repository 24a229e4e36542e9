"""followup: follow-up scheduling and outcome tracking for perpetrator programmes."""

__version__ = "0.1.0"
