"""`field`: equinox.field with optional `axis_names` metadata for raw-array fields."""

from ._src.trees.field import field as field
