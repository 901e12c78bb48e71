"""The ServiceLevel spec, parsed once at the boundary into frozen values (errors carry paths)."""
