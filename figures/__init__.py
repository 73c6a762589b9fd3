"""Plotting code: matplotlib figures saved as PNG. Imports the layers below it, never the reverse."""
