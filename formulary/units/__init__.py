"""The units engine: strict parsing, substance-aware conversion and safe display."""
