"""Inspections (巡查) on the database, and paper results sheets coming back."""
