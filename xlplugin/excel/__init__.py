"""xlplugin inside Excel: functions on an `xw.Book` (desktop ribbon, or the server's remote Book)."""

from .book import clear_book, insert_template, mark_book, read_sheets, validate_book

__all__ = ["clear_book", "insert_template", "mark_book", "read_sheets", "validate_book"]
