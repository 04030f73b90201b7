"""hfweekly: Hugging Face papers of the week, in Korean, on Telegram."""

__version__ = "0.1.0"
