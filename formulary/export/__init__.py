"""Export renderers: plain :class:`~formulary.records.PatientChart` records in, bytes out.

One module per format, each importable on its own, so nothing heavy loads until an
export actually runs:

- :mod:`formulary.export.pdf_note` — the PDF chart note (fpdf2, embedded DejaVu fonts)
- :mod:`formulary.export.plot` — the outcome chart drawn into the note (matplotlib Agg)
- :mod:`formulary.export.csv_export` — sessions and session components as CSV
- :mod:`formulary.export.fhir_bundle` — FHIR R4B document Bundles and NDJSON resources
- :mod:`formulary.export.json_export` — the chart record itself as JSON
- :mod:`formulary.export.safe_text` — spreadsheet formula-injection neutralising
- :mod:`formulary.export.selection` — narrowing a chart to one session

Nothing here reads a database or a clock: the caller puts the export time and the
fresh audit checkpoint on the chart before rendering.
"""
