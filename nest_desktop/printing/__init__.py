"""ReportLab documents handed to patients; one module per document, `common` for the house style."""
